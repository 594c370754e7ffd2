import {randomBytes} from 'node:crypto'
/**
 * The load loop of one worker: builds batches on demand from the synthesiser,
 * POSTs them, retries what may succeed later, and measures.
 *
 * - Closed model (default): `concurrency` batches in flight; a lane sends its
 *   next batch when the previous one is answered.
 * - Open model (`rate`): batch b is due at start + b·batchSize/rate. Its latency
 *   is measured from that intended time, not from when it could be sent, so a
 *   stalled server shows in the percentiles (no coordinated omission). At most
 *   `maxInFlight` batches are outstanding; a batch waiting for a slot keeps
 *   accruing latency.
 *
 * Memory is bounded by the batches in flight: nothing is kept per log.
 */
import type {Clock} from '../../clock.js'
import type {IntervalHooks} from '../measure/timeline.js'
import type {BatchEncoder} from '../protocols/ack.js'
import type {Payload} from '../generate/synth.js'
import type {LogSynth} from '../generate/synth.js'
import type {Transport} from './transport.js'

import {systemClock} from '../../clock.js'
import {HttpStatusError} from '../protocols/ack.js'
import {jsonEncoder} from '../protocols/json.js'
import {classifyError, ClassCounter, type Histogram, newHistogram, recordMs} from '../measure/histogram.js'
import {ByteWriter} from '../../format/byte-writer.js'

export {parseRetryAfter} from '../protocols/ack.js'

export interface WorkerSlot {
  /** 0-based index of this worker among `count`. */
  index: number
  count: number
}

export interface SenderOptions {
  synth: LogSynth
  transport: Transport
  worker: WorkerSlot
  /** Logs this worker sends (count-bound run). */
  logs?: number
  /** How long to keep starting batches (time-bound run), ms. */
  durationMs?: number
  batchSize: number
  payload: Payload
  /** How bodies are written and answers judged; the JSON shape of `payload` by default. */
  encoder?: BatchEncoder
  /** Extra request headers (after the defaults, so they can override them). */
  headers?: Record<string, string>
  /** Closed model: batches in flight. */
  concurrency: number
  /** Open model: logs per second for this worker. */
  rate?: number
  /** Open model: cap on outstanding batches (default 128). */
  maxInFlight?: number
  /** Retries of one batch after its first attempt (default 5). */
  retries?: number
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

export interface Counts {
  sent: number
  acked: number
  failed: number
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

export type StopReason = 'completed' | 'interrupted' | 'unreachable'

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
  /** Open model only. */
  rate?: {targetLogsPerSecond: number}
  peakInFlight: number
}

/** Classes worth another try: overload and transient network trouble. */
const RETRYABLE = new Set(['http_429', 'http_502', 'http_503', 'http_504', 'timeout', 'reset', 'refused'])
/** Classes that mean the target is not there at all. */
const UNREACHABLE = new Set(['refused', 'dns'])
const FAILED_BATCH_CAP = 10_000

/** Exponential back-off with full jitter; a Retry-After, when given, is the floor. */
export function backoffMs(
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number,
  {baseMs, capMs, retryAfterCapMs}: {baseMs: number; capMs: number; retryAfterCapMs: number},
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt)
  const jittered = random() * ceiling
  if (retryAfterMs === undefined) return jittered
  const floor = Math.min(retryAfterCapMs, retryAfterMs)
  // A little jitter above the floor so retried batches do not all return at once.
  return floor + random() * Math.min(ceiling, Math.max(50, floor * 0.1))
}

/** How many logs batch b of a worker carries. */
function batchCount(b: number, batchSize: number, logs: number | undefined): number {
  if (logs === undefined) return batchSize
  return Math.max(0, Math.min(batchSize, logs - b * batchSize))
}

export async function sendLoad(options: SenderOptions): Promise<SendOutcome> {
  const clock = options.clock ?? systemClock
  const random = options.random ?? Math.random
  const {batchSize, durationMs, synth, transport, worker} = options
  // Open model for a duration: exactly rate x duration logs, on the schedule (the last batch may be short).
  const plannedLogs =
    options.logs ?? (options.rate !== undefined && durationMs !== undefined ? Math.max(1, Math.round((options.rate * durationMs) / 1000)) : undefined)
  const retries = options.retries ?? 5
  const backoff = {baseMs: options.retryBaseMs ?? 100, capMs: options.retryMaxMs ?? 5000, retryAfterCapMs: options.retryAfterCapMs ?? 60_000}
  if (plannedLogs === undefined && durationMs === undefined) throw new TypeError('sendLoad needs logs or durationMs')
  if (!(batchSize >= 1)) throw new TypeError('batchSize must be >= 1')
  const totalBatches = plannedLogs === undefined ? Number.POSITIVE_INFINITY : Math.ceil(plannedLogs / batchSize)
  const encoder = options.encoder ?? jsonEncoder(synth, options.payload)
  const baseHeaders: Record<string, string> = {'content-type': encoder.contentType}

  const logs: Counts = {acked: 0, failed: 0, sent: 0}
  const batches: Counts = {acked: 0, failed: 0, sent: 0}
  const retryClasses = new ClassCounter()
  const errorClasses = new ClassCounter()
  const failedLogClasses = new ClassCounter()
  const errorSamples: Record<string, string> = {}
  const latency = newHistogram()
  const service = newHistogram()
  const failedBatches: number[] = []
  let failedBatchesTruncated = false
  let bytesSent = 0
  let retryCount = 0
  let inFlight = 0
  let peakInFlight = 0
  let stopReason: StopReason = 'completed'
  let stopped = false
  const stopController = new AbortController()
  const stop = (reason: StopReason) => {
    if (stopped) return
    stopped = true
    stopReason = reason
    stopController.abort()
  }

  const onAbort = () => stop('interrupted')
  if (options.signal?.aborted) stop('interrupted')
  options.signal?.addEventListener('abort', onAbort, {once: true})

  const start = clock.now()
  const startedAtMs = clock.wallNow()
  let lastAnswer = start

  /** Logs that failed for good. */
  const failLogs = (count: number, cls: string) => {
    if (count === 0) return
    logs.failed += count
    failedLogClasses.add(cls, count)
    options.intervals?.failed(count)
  }

  /** A batch none of whose logs was acknowledged. */
  const failBatch = (b: number, cls: string) => {
    batches.failed++
    errorClasses.add(cls)
    options.intervals?.batchFailed(cls)
    if (failedBatches.length < FAILED_BATCH_CAP) failedBatches.push(b)
    else failedBatchesTruncated = true
    if (UNREACHABLE.has(cls) && logs.acked === 0) stop('unreachable')
  }

  const sample = (cls: string, error: unknown) => {
    if (errorSamples[cls]) return
    errorSamples[cls] = typeof error === 'string' ? error : error instanceof HttpStatusError ? error.sample : (error as Error)?.message ?? String(error)
  }

  // Batch buffers are reused once a batch is done: no allocation (and no garbage) per batch,
  // so memory stays flat whatever the number of logs.
  const writers: ByteWriter[] = []
  const maxPooled = Math.min(512, options.rate === undefined ? options.concurrency : (options.maxInFlight ?? 128))

  const sendBatch = async (b: number, intendedAt: number | undefined): Promise<void> => {
    const count = batchCount(b, batchSize, plannedLogs)
    const firstSeq = b * batchSize * worker.count + worker.index
    const writer = writers.pop() ?? new ByteWriter(Math.max(1024, batchSize * 420))
    const builtAt = clock.wallNow()
    const seqOf = (i: number) => firstSeq + i * worker.count
    const body = encoder.encode(count, seqOf, builtAt, writer)
    // Records sent again alone (429 items of a _bulk answer) get a body of their own, in the same buffer.
    const resend = (seqs: number[]) => encoder.encode(seqs.length, (i) => seqs[i], builtAt, writer)
    // Only once the target has read the whole body (it answered 2xx, or the connection is gone)
    // may its bytes be overwritten.
    let reusable = false
    try {
      reusable = await attempts(b, count, body, intendedAt, seqOf, resend)
    } finally {
      if (reusable && writers.length < maxPooled) writers.push(writer)
    }
  }

  const invocation = randomBytes(4).toString('hex')
  const attempts = async (
    b: number,
    count: number,
    firstBody: Buffer,
    intendedAt: number | undefined,
    seqOf: (i: number) => number,
    resend: (seqs: number[]) => Buffer,
  ): Promise<boolean> => {
    // The nonce keeps a re-run with the same --run-id from being answered out of serve's key cache.
    const key = `${synth.runId}-${invocation}-w${worker.index}-b${b}`
    let headers: Record<string, string> = {...baseHeaders, 'idempotency-key': key, ...options.headers}
    let body = firstBody
    logs.sent += count
    batches.sent++
    bytesSent += body.length
    options.intervals?.sent(count, body.length)
    const sentAt = clock.now()
    // Closed model: the batch is due when it is ready to go.
    const dueAt = intendedAt ?? sentAt
    let bodyRead = false
    // Acknowledgements are per record: an answer may take some logs of the batch, fail others and
    // ask for some again. `pending` logs are in the current body; `seqs` names them once it is a resend.
    let pending = count
    let seqs: number[] | undefined
    let acked = 0
    let lastClass = 'other'
    /** The batch is over: acknowledged when any of its logs was. */
    const settle = (cls: string) => {
      if (acked > 0) {
        const now = clock.now()
        batches.acked++
        recordMs(latency, now - dueAt)
        recordMs(service, now - sentAt)
        options.intervals?.answered(now - dueAt)
      } else failBatch(b, cls)
    }

    /** Count a retry of class cls and wait out its back-off; true when the run stopped meanwhile (the `count` pending logs then fail as interrupted). */
    const backOff = async (attempt: number, cls: string, retryAfterMs: number | undefined, count: number): Promise<boolean> => {
      retryCount++
      retryClasses.add(cls)
      options.intervals?.retried(cls)
      await clock.sleep(backoffMs(attempt, retryAfterMs, random, backoff), stopController.signal)
      if (!stopped) return false
      failLogs(count, 'interrupted')
      settle('interrupted')
      return true
    }

    for (let attempt = 0; ; attempt++) {
      let cls: string
      let retryAfterMs: number | undefined
      try {
        const response = await transport.send({body, headers})
        const ack = encoder.judge(response, pending, clock.wallNow())
        lastAnswer = Math.max(lastAnswer, clock.now())
        bodyRead = true
        logs.acked += ack.acked
        acked += ack.acked
        options.intervals?.acked(ack.acked)
        for (const failure of ack.failed) {
          failLogs(failure.count, failure.cls)
          sample(failure.cls, failure.sample ?? failure.cls)
          lastClass = failure.cls
        }

        const again = ack.retry?.positions.map((position) => (seqs ? seqs[position] : seqOf(position))) ?? []
        if (again.length === 0) {
          settle(lastClass)
          return true
        }

        cls = ack.retry!.cls
        retryAfterMs = ack.retry!.retryAfterMs
        sample(cls, ack.retry!.sample ?? cls)
        if (attempt >= retries || stopped) {
          failLogs(again.length, stopped ? 'interrupted' : cls)
          settle(cls)
          return true
        }

        if (await backOff(attempt, cls, retryAfterMs, again.length)) return true

        seqs = again
        pending = again.length
        body = resend(again)
        // Another body is another request: it must not be answered as the first one was.
        headers = {...headers, 'idempotency-key': `${key}-r${attempt + 1}`}
        bytesSent += body.length
        options.intervals?.sent(0, body.length)
        continue
      } catch (error) {
        lastAnswer = Math.max(lastAnswer, clock.now())
        cls = classifyError(error)
        bodyRead = false
        if (error instanceof HttpStatusError) retryAfterMs = error.retryAfterMs
        sample(cls, error)
      }

      if (!RETRYABLE.has(cls) || attempt >= retries || stopped) {
        const final = stopped && RETRYABLE.has(cls) && attempt < retries ? 'interrupted' : cls
        failLogs(pending, final)
        settle(final)
        return bodyRead
      }

      if (await backOff(attempt, cls, retryAfterMs, pending)) return false
    }
  }

  const deadlinePassed = (at: number) => durationMs !== undefined && at - start >= durationMs

  // Progress ticks.
  let lastTick = {acked: 0, at: start}
  const snapshot = (): ProgressSnapshot => {
    const now = clock.now()
    const rate = now > lastTick.at ? ((logs.acked - lastTick.acked) * 1000) / (now - lastTick.at) : 0
    lastTick = {acked: logs.acked, at: now}
    return {
      batches: {...batches},
      elapsedMs: Math.round(now - start),
      inFlight,
      logs: {...logs},
      logsPerSecond: Math.round(rate),
      p50Ms: latency.totalCount > 0 ? latency.getValueAtPercentile(50) / 1000 : 0,
      p99Ms: latency.totalCount > 0 ? latency.getValueAtPercentile(99) / 1000 : 0,
      plannedDurationMs: durationMs,
      plannedLogs,
      retries: retryCount,
    }
  }

  const ticker =
    options.onProgress && options.progressIntervalMs
      ? setInterval(() => options.onProgress!(snapshot()), options.progressIntervalMs)
      : undefined
  ticker?.unref?.()

  const track = async (b: number, intendedAt: number | undefined) => {
    inFlight++
    peakInFlight = Math.max(peakInFlight, inFlight)
    try {
      await sendBatch(b, intendedAt)
    } finally {
      inFlight--
    }
  }

  try {
    if (options.rate === undefined) {
      // Closed model.
      let next = 0
      const lane = async () => {
        while (!stopped) {
          const now = clock.now()
          if (next >= totalBatches || deadlinePassed(now)) return
          const b = next++
          await track(b, undefined)
        }
      }

      await Promise.all(Array.from({length: Math.max(1, options.concurrency)}, () => lane()))
    } else {
      // Open model.
      const rate = options.rate
      if (!(rate > 0)) throw new TypeError('rate must be > 0')
      const cap = Math.max(1, options.maxInFlight ?? 128)
      const pending = new Set<Promise<void>>()
      for (let b = 0; b < totalBatches && !stopped; b++) {
        const intendedAt = start + (b * batchSize * 1000) / rate
        if (deadlinePassed(intendedAt)) break
        const wait = intendedAt - clock.now()
        if (wait > 0) await clock.sleep(wait, stopController.signal)
        while (pending.size >= cap && !stopped) await Promise.race(pending)
        if (stopped) break
        // --duration bounds real time: a target too slow for the rate does not stretch the run; the
        // batches it had no time for show as an achieved rate below the target.
        if (durationMs !== undefined && clock.now() >= start + durationMs) break
        const promise: Promise<void> = track(b, intendedAt).finally(() => pending.delete(promise))
        pending.add(promise)
      }

      await Promise.all(pending)
    }
  } finally {
    if (ticker) clearInterval(ticker)
    options.signal?.removeEventListener('abort', onAbort)
  }

  // Open model: the last batch owns its whole interval, so the run spans at least the schedule it covered.
  const scheduled = options.rate === undefined ? 0 : (logs.sent * 1000) / options.rate
  const end = Math.max(lastAnswer, start + scheduled)
  options.onProgress?.(snapshot())
  return {
    batches,
    bytesSent,
    durationMs: end - start,
    endedAtMs: startedAtMs + (end - start),
    errorSamples,
    errors: {byClass: errorClasses.toJSON(), logsByClass: failedLogClasses.toJSON(), total: errorClasses.total},
    failedBatches,
    failedBatchesTruncated,
    latency,
    logs,
    peakInFlight,
    rate: options.rate === undefined ? undefined : {targetLogsPerSecond: options.rate},
    retries: {byClass: retryClasses.toJSON(), count: retryCount},
    service,
    startedAtMs,
    stopReason,
  }
}
