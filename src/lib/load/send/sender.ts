/**
 * One process sending: builds batches on demand from the synthesiser, hands
 * them to the load model (closed: send/closed.ts; open: send/open.ts), sends
 * each through its attempts (send/attempt.ts), reports progress and returns
 * what it counted. Memory is bounded by the batches in flight: nothing is kept
 * per log, and batch buffers are reused.
 */
import {randomBytes} from 'node:crypto'

import type {Clock} from '../../clock.js'
import type {LogSynth} from '../generate/synth.js'
import type {IntervalHooks} from '../measure/timeline.js'
import type {BatchEncoder} from '../protocols/ack.js'
import type {Transport} from './transport.js'

import {systemClock} from '../../clock.js'
import {ByteWriter} from '../../format/byte-writer.js'
import {type Histogram} from '../measure/histogram.js'
import {StageCounter, type StageResult, stageResults} from '../measure/stages.js'
import {jsonEncoder} from '../protocols/json.js'
import {DEFAULTS, type LoadSettings, modelOf, outstandingOf} from '../settings.js'
import {attemptBatch, type AttemptContext, type Batch} from './attempt.js'
import {type BackoffTuning, DEFAULT_BACKOFF} from './backoff.js'
import {runClosed} from './closed.js'
import {runOpen} from './open.js'
import {Schedule} from './schedule.js'
import {type Counts, SendState, type StopReason} from './state.js'

export type {Counts, StopReason} from './state.js'

/** The settings the sender reads: a LoadSettings, of which only these matter here (the others may be left out). */
export type SendSettings = Pick<LoadSettings, 'batchSize' | 'concurrency' | 'worker'> &
  Partial<Pick<LoadSettings, 'logs' | 'durationMs' | 'rate' | 'stages' | 'startRate' | 'warmupMs' | 'maxInFlight' | 'retries' | 'headers' | 'payload'>>

export interface SenderOptions extends SendSettings {
  synth: LogSynth
  transport: Transport
  /** How bodies are written and answers judged; the JSON shape of `payload` by default. */
  encoder?: BatchEncoder
  /** Back-off tuning (tests shorten it). */
  retryBaseMs?: number
  retryMaxMs?: number
  /** Longest Retry-After honoured (ms, default 60 s). */
  retryAfterCapMs?: number
  signal?: AbortSignal
  clock?: Clock
  /** Uniform [0, 1) for back-off jitter. */
  random?: () => number
  progressIntervalMs?: number
  onProgress?: (snapshot: ProgressSnapshot) => void
  /** Per-interval recording (the timeline). */
  intervals?: IntervalHooks
}

export interface ProgressSnapshot {
  elapsedMs: number
  /** Planned logs for this worker (count-bound runs). */
  plannedLogs?: number
  plannedDurationMs?: number
  logs: Counts
  batches: Counts
  retries: number
  inFlight: number
  /** Acknowledged logs per second over the last interval. */
  logsPerSecond: number
  p50Ms: number
  p99Ms: number
}

export interface SendOutcome {
  /** Wall-clock epoch ms of the first send and of the last answer. */
  startedAtMs: number
  endedAtMs: number
  durationMs: number
  logs: Counts
  batches: Counts
  bytesSent: number
  retries: {count: number; byClass: Record<string, number>}
  /** Batches that failed for good, by class of their last error; and logs that failed for good, by class. */
  errors: {total: number; byClass: Record<string, number>; logsByClass: Record<string, number>}
  /** One example message per error class (status and start of the body, or the error). */
  errorSamples: Record<string, string>
  /** Latency from the intended send time to the acknowledgement, per acknowledged batch. */
  latency: Histogram
  /** Latency from the actual first send to the acknowledgement. */
  service: Histogram
  /** Batch numbers (per worker) that were not acknowledged; capped. */
  failedBatches: number[]
  failedBatchesTruncated: boolean
  stopReason: StopReason
  /** Open model only: the rate asked for over the measured part (after the warm-up). */
  rate?: {targetLogsPerSecond: number}
  peakInFlight: number
  /** Open model with stages or a warm-up: each stage's own figures, the warm-up first. */
  stages?: StageResult[]
  /** The warm-up: its length and the logs of it acknowledged (verified, never measured). */
  warmup?: {durationMs: number; acked: number}
}

/** How many logs batch b of a worker carries. */
function batchCount(b: number, batchSize: number, logs: number | undefined): number {
  if (logs === undefined) return batchSize
  return Math.max(0, Math.min(batchSize, logs - b * batchSize))
}

function progressTicker(state: SendState, options: SenderOptions, planned: {logs?: number; durationMs?: number}): {snapshot(): ProgressSnapshot; stop(): void} {
  let last = {acked: 0, at: state.start}
  const snapshot = (): ProgressSnapshot => {
    const now = state.clock.now()
    const rate = now > last.at ? ((state.logs.acked - last.acked) * 1000) / (now - last.at) : 0
    last = {acked: state.logs.acked, at: now}
    const {latency} = state
    return {
      batches: {...state.batches},
      elapsedMs: Math.round(now - state.start),
      inFlight: state.inFlight,
      logs: {...state.logs},
      logsPerSecond: Math.round(rate),
      p50Ms: latency.totalCount > 0 ? latency.getValueAtPercentile(50) / 1000 : 0,
      p99Ms: latency.totalCount > 0 ? latency.getValueAtPercentile(99) / 1000 : 0,
      plannedDurationMs: planned.durationMs,
      plannedLogs: planned.logs,
      retries: state.retryCount,
    }
  }

  const timer = options.onProgress && options.progressIntervalMs ? setInterval(() => options.onProgress!(snapshot()), options.progressIntervalMs) : undefined
  timer?.unref?.()
  return {snapshot, stop: () => timer && clearInterval(timer)}
}

export async function sendLoad(options: SenderOptions): Promise<SendOutcome> {
  const clock = options.clock ?? systemClock
  const {batchSize, durationMs, synth, worker} = options
  const {rate} = options
  const open = modelOf(options) === 'open'
  const schedule = open ? new Schedule({durationMs, rate, stages: options.stages, startRate: options.startRate, warmupMs: options.warmupMs}) : undefined
  // The open model for a time (a duration, or stages): exactly the logs the schedule makes due (the last batch may be short).
  const scheduledLogs = schedule && Number.isFinite(schedule.totalLogs) ? Math.max(1, Math.round(schedule.totalLogs)) : undefined
  const plannedLogs = options.logs ?? scheduledLogs
  const runMs = schedule && Number.isFinite(schedule.durationMs) ? schedule.durationMs : durationMs
  if (plannedLogs === undefined && runMs === undefined) throw new TypeError('sendLoad needs logs or durationMs')
  if (!(batchSize >= 1)) throw new TypeError('batchSize must be >= 1')
  const totalBatches = plannedLogs === undefined ? Number.POSITIVE_INFINITY : Math.ceil(plannedLogs / batchSize)
  const encoder = options.encoder ?? jsonEncoder(synth, options.payload ?? 'array')
  const outstanding = outstandingOf({concurrency: options.concurrency, maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight, rate, stages: options.stages})
  const backoff: BackoffTuning = {
    baseMs: options.retryBaseMs ?? DEFAULT_BACKOFF.baseMs,
    capMs: options.retryMaxMs ?? DEFAULT_BACKOFF.capMs,
    retryAfterCapMs: options.retryAfterCapMs ?? DEFAULT_BACKOFF.retryAfterCapMs,
  }

  const state = new SendState(clock, options.intervals)
  const shaped = schedule && (options.stages?.length || schedule.warmupMs > 0)
  if (shaped) state.stages = schedule.segments.map((segment) => new StageCounter(segment))
  const onAbort = () => state.stop('interrupted')
  if (options.signal?.aborted) state.stop('interrupted')
  options.signal?.addEventListener('abort', onAbort, {once: true})

  // The nonce keeps a re-run with the same --run-id from being answered out of serve's key cache.
  const context: AttemptContext = {
    backoff,
    encoder,
    headers: options.headers ?? {},
    keyPrefix: `${synth.runId}-${randomBytes(4).toString('hex')}-w${worker.index}`,
    random: options.random ?? Math.random,
    retries: options.retries ?? DEFAULTS.retries,
    state,
    transport: options.transport,
  }

  // Batch buffers are reused once a batch is done: no allocation (and no garbage) per batch,
  // so memory stays flat whatever the number of logs.
  const writers: ByteWriter[] = []
  const maxPooled = Math.min(512, outstanding)
  interface Built extends Batch {
    writer: ByteWriter
  }

  const build = (b: number, intendedAt?: number): Built => {
    const count = batchCount(b, batchSize, plannedLogs)
    const firstSeq = b * batchSize * worker.count + worker.index
    const writer = writers.pop() ?? new ByteWriter(Math.max(1024, batchSize * 420))
    const builtAt = clock.wallNow()
    const seqOf = (i: number) => firstSeq + i * worker.count
    const body = encoder.encode(count, seqOf, builtAt, writer)
    // Records sent again alone (429 items of a _bulk answer) get a body of their own, in the same buffer.
    const resend = (seqs: number[]) => encoder.encode(seqs.length, (i) => seqs[i], builtAt, writer)
    return {b, body, count, intendedAt, resend, seqOf, stage: state.stageAt(intendedAt), writer}
  }

  const release = (batch: Built) => {
    if (writers.length < maxPooled) writers.push(batch.writer)
  }

  const send = async (batch: Built): Promise<void> => {
    // Only once the target has read the whole body (it answered 2xx, or the connection is gone)
    // may its bytes be overwritten.
    let reusable = false
    try {
      reusable = await attemptBatch(context, batch)
    } finally {
      if (reusable) release(batch)
    }
  }

  const ticker = progressTicker(state, options, {durationMs, logs: plannedLogs})
  try {
    if (schedule) await runOpen(state, {batchSize, cap: outstanding, durationMs: runMs, schedule, totalBatches}, (b, intendedAt) => send(build(b, intendedAt)))
    else await runClosed(state, {durationMs: runMs, lanes: options.concurrency, totalBatches}, {build: (b) => build(b), release, send})
  } finally {
    ticker.stop()
    options.signal?.removeEventListener('abort', onAbort)
  }

  // Open model: the last batch owns its whole interval, so the run spans at least the schedule it covered.
  const scheduled = schedule ? Math.min(schedule.timeOf(state.logs.sent), runMs ?? Number.POSITIVE_INFINITY) : 0
  const end = Math.max(state.lastAnswer, state.start + (Number.isFinite(scheduled) ? scheduled : 0))
  // How far the schedule reached: its end, the logs planned, or where the run stopped.
  const horizon = schedule ? Math.min(runMs ?? Number.POSITIVE_INFINITY, plannedLogs === undefined ? Number.POSITIVE_INFINITY : schedule.timeOf(plannedLogs), end - state.start) : 0
  if (schedule) recordIntended(schedule, horizon, {batchSize, logs: plannedLogs, startedAtMs: state.startedAtMs}, options.intervals)
  const warmupMs = schedule?.warmupMs ?? 0
  const measuredMs = Math.max(0, horizon - warmupMs)
  options.onProgress?.(ticker.snapshot())
  return {
    batches: state.batches,
    bytesSent: state.bytesSent,
    durationMs: end - state.start,
    endedAtMs: state.startedAtMs + (end - state.start),
    errorSamples: state.errorSamples,
    errors: {byClass: state.errorClasses.toJSON(), logsByClass: state.failedLogClasses.toJSON(), total: state.errorClasses.total},
    failedBatches: state.failedBatches,
    failedBatchesTruncated: state.failedBatchesTruncated,
    latency: state.latency,
    logs: state.logs,
    peakInFlight: state.peakInFlight,
    rate: schedule ? {targetLogsPerSecond: measuredMs > 0 ? Math.round(((schedule.dueBy(horizon) - schedule.dueBy(warmupMs)) * 1000) / measuredMs) : (rate ?? 0)} : undefined,
    retries: {byClass: state.retryClasses.toJSON(), count: state.retryCount},
    service: state.service,
    startedAtMs: state.startedAtMs,
    stopReason: state.stopReason,
    ...(shaped ? {stages: stageResults(state.stages, (segment) => intendedIn(schedule, segment.startMs, Math.min(segment.endMs, horizon)))} : {}),
    ...(warmupMs > 0 ? {warmup: {acked: state.warmupAcked, durationMs: warmupMs}} : {}),
  }
}

/** Logs the schedule made due between two offsets (0 when the second is not later). */
function intendedIn(schedule: Schedule, fromMs: number, toMs: number): number {
  return toMs > fromMs ? schedule.dueBy(toMs) - schedule.dueBy(fromMs) : 0
}

/**
 * Generator fidelity: the logs the schedule made due in each timeline interval, up to the horizon,
 * batch by batch (each batch's logs fall in the interval of its intended send time, as its sends do,
 * so a generator that keeps the schedule sends what was due interval by interval).
 */
function recordIntended(schedule: Schedule, horizon: number, plan: {startedAtMs: number; batchSize: number; logs?: number}, intervals: IntervalHooks | undefined): void {
  if (!intervals?.intended || !Number.isFinite(horizon) || horizon <= 0) return
  for (let b = 0; ; b++) {
    const offset = schedule.timeOf(b * plan.batchSize)
    if (!(offset < horizon)) return
    const count = batchCount(b, plan.batchSize, plan.logs)
    if (count === 0) return
    intervals.intended(plan.startedAtMs + offset, count)
  }
}
