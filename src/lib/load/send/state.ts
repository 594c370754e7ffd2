/**
 * What one sending process has counted so far: logs and batches sent,
 * acknowledged and failed, retries and errors by class, latencies, the
 * batches that failed, and whether (and why) the run stopped. The load
 * models and the attempts of a batch record into it; the outcome is read
 * from it once sending is over.
 */
import type {Clock} from '../../clock.js'
import type {IntervalHooks} from '../measure/timeline.js'

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

  /** A request body went out: `logs` new logs (0 for a resend of some of them). */
  sent(logs: number, bytes: number, batches: number): void {
    this.logs.sent += logs
    this.batches.sent += batches
    this.bytesSent += bytes
    this.intervals?.sent(logs, bytes)
  }

  answered(): void {
    this.lastAnswer = Math.max(this.lastAnswer, this.clock.now())
  }

  acked(count: number): void {
    this.logs.acked += count
    this.intervals?.acked(count)
  }

  /** A batch some of whose logs were acknowledged, `latencyMs` after it was due and `serviceMs` after it went out. */
  batchAcked(latencyMs: number, serviceMs: number): void {
    this.batches.acked++
    recordMs(this.latency, latencyMs)
    recordMs(this.service, serviceMs)
    this.intervals?.answered(latencyMs)
  }

  /** Logs that failed for good. */
  failLogs(count: number, cls: string): void {
    if (count === 0) return
    this.logs.failed += count
    this.failedLogClasses.add(cls, count)
    this.intervals?.failed(count)
  }

  /** A batch none of whose logs was acknowledged. */
  failBatch(b: number, cls: string): void {
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
