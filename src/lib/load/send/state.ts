/**
 * What one sending process has counted so far: logs and batches sent,
 * acknowledged and failed, retries and errors by class, latencies, the
 * batches that failed, and whether (and why) the run stopped. The load
 * models and the attempts of a batch record into it; the outcome is read
 * from it once sending is over.
 */
import type {Clock} from '../../clock.js'
import type {IntervalHooks} from '../measure/timeline.js'

import type {StageCounter} from '../measure/stages.js'

import {HttpStatusError} from '../protocols/ack.js'
import {ClassCounter, type Histogram, newHistogram, recordMs} from '../measure/histogram.js'
import {UNREACHABLE} from './error-class.js'

export interface Counts {
  sent: number
  acked: number
  failed: number
}

export type StopReason = 'completed' | 'interrupted' | 'unreachable'

/** Batch numbers (per worker) of failed batches kept for verification. */
const FAILED_BATCH_CAP = 10_000

export class SendState {
  readonly logs: Counts = {acked: 0, failed: 0, sent: 0}
  readonly batches: Counts = {acked: 0, failed: 0, sent: 0}
  readonly retryClasses = new ClassCounter()
  readonly errorClasses = new ClassCounter()
  readonly failedLogClasses = new ClassCounter()
  readonly errorSamples: Record<string, string> = {}
  /** From the intended send time to the acknowledgement, per acknowledged batch. */
  readonly latency: Histogram = newHistogram()
  /** From the actual first send to the acknowledgement. */
  readonly service: Histogram = newHistogram()
  readonly failedBatches: number[] = []
  failedBatchesTruncated = false
  bytesSent = 0
  retryCount = 0
  inFlight = 0
  peakInFlight = 0
  /** Logs acknowledged of warm-up batches: verified, never measured. */
  warmupAcked = 0
  /** Open model with a shape: one counter per stage (the warm-up first), found by a batch's intended offset. */
  stages: StageCounter[] = []
  stopReason: StopReason = 'completed'
  stopped = false
  /** Aborted when the run stops: back-offs and waits end early. */
  readonly stopSignal: AbortSignal
  /** Monotonic ms of the start and of the last answer. */
  readonly start: number
  readonly startedAtMs: number
  lastAnswer: number
  private readonly stopController = new AbortController()

  constructor(
    readonly clock: Clock,
    readonly intervals?: IntervalHooks,
  ) {
    this.stopSignal = this.stopController.signal
    this.start = clock.now()
    this.startedAtMs = clock.wallNow()
    this.lastAnswer = this.start
  }

  stop(reason: StopReason): void {
    if (this.stopped) return
    this.stopped = true
    this.stopReason = reason
    this.stopController.abort()
  }

  /** The stage of a batch due at monotonic ms `intendedAt` (open model with stages or a warm-up). */
  stageAt(intendedAt: number | undefined): StageCounter | undefined {
    if (intendedAt === undefined || this.stages.length === 0) return undefined
    const offset = intendedAt - this.start
    return this.stages.find((stage) => offset < stage.segment.endMs) ?? this.stages.at(-1)
  }

  /** Open model: a batch due at this offset had to wait for a free slot. */
  slotWaited(offset: number): void {
    const stage = this.stageAt(this.start + offset)
    if (stage) stage.slotWaits++
    this.intervals?.slotWaited?.()
  }

  /** Closed model: a free slot waited this long for the generator. */
  generatorWaited(ms: number): void {
    this.intervals?.generatorWaited?.(ms)
  }

  /** Closed model: a batch waited this long for its answer. */
  answerWaited(ms: number): void {
    this.intervals?.answerWaited?.(ms)
  }

  /** A request body went out: `logs` new logs (0 for a resend of some of them). */
  sent(logs: number, bytes: number, batches: number, stage?: StageCounter): void {
    if (stage) stage.sent += logs
    this.logs.sent += logs
    this.batches.sent += batches
    this.bytesSent += bytes
    this.intervals?.sent(logs, bytes)
  }

  answered(): void {
    this.lastAnswer = Math.max(this.lastAnswer, this.clock.now())
  }

  acked(count: number, stage?: StageCounter): void {
    if (stage) stage.acked += count
    if (stage?.warmup) this.warmupAcked += count
    this.logs.acked += count
    this.intervals?.acked(count)
  }

  /** A batch some of whose logs were acknowledged, `latencyMs` after it was due and `serviceMs` after it went out. */
  batchAcked(latencyMs: number, serviceMs: number, stage?: StageCounter): void {
    this.batches.acked++
    stage?.answered(latencyMs)
    // The warm-up is charted and verified, but its latencies are not the run's.
    if (!stage?.warmup) {
      recordMs(this.latency, latencyMs)
      recordMs(this.service, serviceMs)
    }

    this.intervals?.answered(latencyMs)
  }

  /** Logs that failed for good. */
  failLogs(count: number, cls: string, stage?: StageCounter): void {
    if (count === 0) return
    if (stage) stage.failed += count
    this.logs.failed += count
    this.failedLogClasses.add(cls, count)
    this.intervals?.failed(count)
  }

  /** A batch none of whose logs was acknowledged. */
  failBatch(b: number, cls: string, stage?: StageCounter): void {
    if (stage) stage.errors++
    this.batches.failed++
    this.errorClasses.add(cls)
    this.intervals?.batchFailed(cls)
    if (this.failedBatches.length < FAILED_BATCH_CAP) this.failedBatches.push(b)
    else this.failedBatchesTruncated = true
    if (UNREACHABLE.has(cls) && this.logs.acked === 0) this.stop('unreachable')
  }

  retried(cls: string): void {
    this.retryCount++
    this.retryClasses.add(cls)
    this.intervals?.retried(cls)
  }

  /** One example message per error class. */
  sample(cls: string, error: unknown): void {
    if (this.errorSamples[cls]) return
    this.errorSamples[cls] = typeof error === 'string' ? error : error instanceof HttpStatusError ? error.sample : ((error as Error)?.message ?? String(error))
  }

  /** Count a batch in flight while `work` runs. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight)
    try {
      return await work()
    } finally {
      this.inFlight--
    }
  }
}
