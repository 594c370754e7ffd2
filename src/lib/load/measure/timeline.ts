/**
 * The run over time: per wall-clock interval, the logs sent, acknowledged and
 * failed, bytes, retries and errors by class, a latency histogram, and the
 * process's CPU and RSS.
 *
 * Intervals are aligned on multiples of the interval since the epoch, so the
 * timelines of workers (and of hosts whose clocks agree) line up and merge
 * exactly: counters add up, histograms merge. A timeline stays bounded: past
 * MAX_INTERVALS it doubles its interval, each coarse interval holding exactly
 * two fine ones.
 */
import type {Clock} from '../../clock.js'

import {ClassCounter, decodeHistogram, encodeHistogram, type Histogram, newHistogram, recordMs, summarize} from './histogram.js'
import {MAX_INTERVALS, widenedInterval} from './intervals.js'

export interface IntervalLatency {
  /** Batches acknowledged in the interval. */
  count: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
}

export interface Interval {
  /** Start of the interval, epoch ms (a multiple of the timeline's intervalMs). */
  at: number
  /** Logs whose batch was first sent in the interval. */
  sent: number
  /** Logs acknowledged in the interval. */
  acked: number
  /** Logs whose batch failed for good in the interval. */
  failed: number
  /** Request bytes first sent in the interval. */
  bytes: number
  /** Attempts retried in the interval, by class. */
  retries: Record<string, number>
  /** Batches failed for good in the interval (none of their logs acknowledged), by class. */
  errors: Record<string, number>
  /** Latency of the batches acknowledged in the interval. */
  latency: IntervalLatency
  /** Their HDR histogram (µs, compressed base64); '' when none. */
  histogram: string
  /** CPU time of the process(es) in the interval, ms. */
  cpuMs: number
  /** Time the event loop(s) were busy in the interval, ms. */
  busyMs: number
  /** Resident set size at the end of the interval (the largest, once coarsened; summed over processes), bytes. */
  rssBytes: number
  /** Open model: logs the schedule made due in the interval (generator fidelity: against `sent`). */
  intended?: number
  /** Open model: batches that had to wait for a free in-flight slot (the target was too slow for the rate). */
  slotWaits?: number
  /** Closed model: time free in-flight slots waited for the generator to produce their next batch, ms (summed over slots). */
  generatorWaitMs?: number
  /** Closed model: time batches waited for their answers while the sender's event loop sat idle, ms (summed over slots); while the loop is busy, a delay is the sender's own. */
  answerWaitMs?: number
}

/** The sender's own figures per interval, present only where the load model records them. */
const OBSERVED = ['intended', 'slotWaits', 'generatorWaitMs', 'answerWaitMs'] as const
type Observed = (typeof OBSERVED)[number]

export interface Timeline {
  intervalMs: number
  intervals: Interval[]
}

interface Bucket {
  sent: number
  acked: number
  failed: number
  bytes: number
  retries: ClassCounter
  errors: ClassCounter
  histogram: Histogram | undefined
  cpuMs: number
  busyMs: number
  rssBytes: number
  observed: Partial<Record<Observed, number>>
}

const emptyBucket = (): Bucket => ({acked: 0, busyMs: 0, bytes: 0, cpuMs: 0, errors: new ClassCounter(), failed: 0, histogram: undefined, observed: {}, retries: new ClassCounter(), rssBytes: 0, sent: 0})

const EMPTY_LATENCY: IntervalLatency = {count: 0, maxMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0}

function latencyOf(histogram: Histogram | undefined): IntervalLatency {
  if (!histogram || histogram.totalCount === 0) return {...EMPTY_LATENCY}
  const {count, maxMs, p50Ms, p90Ms, p99Ms} = summarize(histogram)
  return {count, maxMs, p50Ms, p90Ms, p99Ms}
}

/** The hooks the load loop calls as batches go and come back; times are read from the clock. */
export interface IntervalHooks {
  /** The width of an interval, ms (for figures recorded after the fact). */
  readonly intervalMs?: number
  /** A request body went out: its new logs (0 for a resend) and its bytes. */
  sent(logs: number, bytes: number): void
  /** An answer acknowledged logs. */
  acked(logs: number): void
  /** A batch was acknowledged (some of its logs at least), this long after it was due. */
  answered(latencyMs: number): void
  /** Logs failed for good. */
  failed(logs: number): void
  /** A batch failed for good, none of its logs acknowledged. */
  batchFailed(errorClass: string): void
  retried(errorClass: string): void
  /** Open model: a batch had to wait for a free in-flight slot. */
  slotWaited?(): void
  /** Closed model: a free slot waited this long for the generator's next batch. */
  generatorWaited?(ms: number): void
  /** Closed model: a batch waited this long for its answer (all its attempts), counting only the time the event loop sat idle. */
  answerWaited?(ms: number): void
  /** Open model: logs the schedule made due in the interval holding epoch ms `wall`. */
  intended?(wall: number, logs: number): void
}

/** Records one process's timeline. */
export class TimelineRecorder implements IntervalHooks {
  private readonly buckets = new Map<number, Bucket>()

  constructor(
    readonly intervalMs: number,
    private readonly clock: Pick<Clock, 'wallNow'>,
  ) {
    if (!(intervalMs >= 1)) throw new TypeError('intervalMs must be >= 1')
  }

  /** The start of the interval holding epoch ms `wall`. */
  intervalAt(wall: number): number {
    return Math.floor(wall / this.intervalMs) * this.intervalMs
  }

  private bucket(wall = this.clock.wallNow()): Bucket {
    const at = this.intervalAt(wall)
    let bucket = this.buckets.get(at)
    if (!bucket) this.buckets.set(at, (bucket = emptyBucket()))
    return bucket
  }

  sent(logs: number, bytes: number): void {
    const bucket = this.bucket()
    bucket.sent += logs
    bucket.bytes += bytes
  }

  acked(logs: number): void {
    if (logs > 0) this.bucket().acked += logs
  }

  answered(latencyMs: number): void {
    const bucket = this.bucket()
    bucket.histogram ??= newHistogram()
    recordMs(bucket.histogram, latencyMs)
  }

  failed(logs: number): void {
    if (logs > 0) this.bucket().failed += logs
  }

  batchFailed(errorClass: string): void {
    this.bucket().errors.add(errorClass)
  }

  retried(errorClass: string): void {
    this.bucket().retries.add(errorClass)
  }

  slotWaited(): void {
    this.observe(this.bucket(), 'slotWaits', 1)
  }

  generatorWaited(ms: number): void {
    this.observe(this.bucket(), 'generatorWaitMs', ms)
  }

  answerWaited(ms: number): void {
    this.observe(this.bucket(), 'answerWaitMs', ms)
  }

  /** Logs the schedule made due in the interval holding epoch ms `wall`. */
  intended(wall: number, logs: number): void {
    this.observe(this.bucket(wall), 'intended', logs)
  }

  private observe(bucket: Bucket, key: Observed, value: number): void {
    bucket.observed[key] = (bucket.observed[key] ?? 0) + value
  }

  /** CPU used and RSS reached by the process in the interval holding `wall`. */
  resources(wall: number, cpuMs: number, rssBytes: number, busyMs = 0): void {
    const bucket = this.bucket(wall)
    bucket.cpuMs += cpuMs
    bucket.busyMs += busyMs
    bucket.rssBytes = Math.max(bucket.rssBytes, rssBytes)
  }

  /** The timeline so far: every interval from the first to the last, empty ones included; bounded. */
  toJSON(max = MAX_INTERVALS): Timeline {
    const ats = [...this.buckets.keys()].sort((a, b) => a - b)
    if (ats.length === 0) return {intervalMs: this.intervalMs, intervals: []}
    // Coarsen the raw buckets before encoding: as exact as coarsening the encoded timeline, and cheaper.
    const intervalMs = widenedInterval(ats[0], ats.at(-1)!, this.intervalMs, max)
    const buckets = new Map<number, Bucket>()
    for (const at of ats) {
      const source = this.buckets.get(at)!
      const start = Math.floor(at / intervalMs) * intervalMs
      const target = buckets.get(start)
      if (!target) {
        buckets.set(start, intervalMs === this.intervalMs ? source : addBucket(emptyBucket(), source))
        continue
      }

      addBucket(target, source)
    }

    const intervals: Interval[] = []
    const first = Math.floor(ats[0] / intervalMs) * intervalMs
    const last = Math.floor(ats.at(-1)! / intervalMs) * intervalMs
    for (let at = first; at <= last; at += intervalMs) {
      const bucket = buckets.get(at)
      intervals.push(bucket ? toInterval(at, bucket) : emptyInterval(at))
    }

    return {intervalMs, intervals}
  }
}

/** Add `source` into `target` (RSS: the larger). */
function addBucket(target: Bucket, source: Bucket): Bucket {
  target.sent += source.sent
  target.acked += source.acked
  target.failed += source.failed
  target.bytes += source.bytes
  target.cpuMs += source.cpuMs
  target.busyMs += source.busyMs
  target.rssBytes = Math.max(target.rssBytes, source.rssBytes)
  for (const [cls, n] of Object.entries(source.retries.toJSON())) target.retries.add(cls, n)
  for (const [cls, n] of Object.entries(source.errors.toJSON())) target.errors.add(cls, n)
  for (const key of OBSERVED) if (source.observed[key] !== undefined) target.observed[key] = (target.observed[key] ?? 0) + source.observed[key]
  if (source.histogram) {
    target.histogram ??= newHistogram()
    target.histogram.add(source.histogram)
  }

  return target
}

export function emptyInterval(at: number): Interval {
  return {acked: 0, at, busyMs: 0, bytes: 0, cpuMs: 0, errors: {}, failed: 0, histogram: '', latency: {...EMPTY_LATENCY}, retries: {}, rssBytes: 0, sent: 0}
}

function toInterval(at: number, bucket: Bucket): Interval {
  const has = bucket.histogram && bucket.histogram.totalCount > 0
  return {
    acked: bucket.acked,
    at,
    busyMs: round3(bucket.busyMs),
    bytes: bucket.bytes,
    cpuMs: round3(bucket.cpuMs),
    errors: bucket.errors.toJSON(),
    failed: bucket.failed,
    histogram: has ? encodeHistogram(bucket.histogram!) : '',
    latency: latencyOf(bucket.histogram),
    retries: bucket.retries.toJSON(),
    rssBytes: bucket.rssBytes,
    sent: bucket.sent,
    ...observedOf(OBSERVED.map((key) => bucket.observed[key])),
  }
}

/** The observed figures that are there, rounded (ms to the µs). */
function observedOf(values: readonly (number | undefined)[]): Partial<Pick<Interval, Observed>> {
  const out: Partial<Pick<Interval, Observed>> = {}
  for (const [i, key] of OBSERVED.entries()) if (values[i] !== undefined) out[key] = round3(values[i]!)
  return out
}

const round3 = (n: number) => Math.round(n * 1000) / 1000

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))
const lcm = (a: number, b: number) => (a / gcd(a, b)) * b

/** How several intervals combine into one: counters add, histograms merge. `rss` says how RSS combines. */
function combine(at: number, parts: readonly Interval[], rss: 'max' | 'sum'): Interval {
  const histograms = parts.filter((p) => p.histogram).map((p) => decodeHistogram(p.histogram))
  let merged: Histogram | undefined
  if (histograms.length === 1) merged = histograms[0]
  else if (histograms.length > 1) {
    merged = newHistogram()
    for (const h of histograms) merged.add(h)
  }

  const sum = (key: 'sent' | 'acked' | 'failed' | 'bytes') => parts.reduce((total, p) => total + p[key], 0)
  return {
    acked: sum('acked'),
    at,
    busyMs: round3(parts.reduce((total, p) => total + (p.busyMs ?? 0), 0)),
    bytes: sum('bytes'),
    cpuMs: round3(parts.reduce((total, p) => total + p.cpuMs, 0)),
    errors: ClassCounter.sum(parts.map((p) => p.errors)),
    failed: sum('failed'),
    histogram: merged ? encodeHistogram(merged) : '',
    latency: latencyOf(merged),
    retries: ClassCounter.sum(parts.map((p) => p.retries)),
    rssBytes: rss === 'max' ? Math.max(0, ...parts.map((p) => p.rssBytes)) : parts.reduce((total, p) => total + p.rssBytes, 0),
    sent: sum('sent'),
    ...observedOf(OBSERVED.map((key) => (parts.some((p) => p[key] !== undefined) ? parts.reduce((total, p) => total + (p[key] ?? 0), 0) : undefined))),
  }
}

/** The same timeline at a coarser interval, a multiple of its own: exact (each fine interval lies in one coarse one). */
export function coarsen(timeline: Timeline, intervalMs: number): Timeline {
  if (intervalMs === timeline.intervalMs) return timeline
  if (intervalMs % timeline.intervalMs !== 0) throw new RangeError(`cannot coarsen ${timeline.intervalMs} ms intervals to ${intervalMs} ms`)
  const groups = new Map<number, Interval[]>()
  for (const interval of timeline.intervals) {
    const at = Math.floor(interval.at / intervalMs) * intervalMs
    const group = groups.get(at)
    if (group) group.push(interval)
    else groups.set(at, [interval])
  }

  const intervals = [...groups.entries()].sort(([a], [b]) => a - b).map(([at, parts]) => (parts.length === 1 ? {...parts[0], at} : combine(at, parts, 'max')))
  return {intervalMs, intervals}
}

/** Double the interval until the timeline has at most `max` intervals. */
export function bounded(timeline: Timeline, max = MAX_INTERVALS): Timeline {
  let result = timeline
  while (result.intervals.length > max) result = coarsen(result, result.intervalMs * 2)
  return result
}

/**
 * Several timelines as one, interval by interval on the wall clock: each is
 * first brought to a common interval (the least common multiple of theirs),
 * then the intervals with the same start are combined. Gaps are filled.
 */
export function mergeTimelines(timelines: readonly (Timeline | undefined)[], max = MAX_INTERVALS): Timeline | undefined {
  const present = timelines.filter((t): t is Timeline => t !== undefined && Array.isArray(t.intervals))
  if (present.length === 0) return undefined
  const intervalMs = present.reduce((common, t) => lcm(common, t.intervalMs), present[0].intervalMs)
  const byAt = new Map<number, Interval[]>()
  for (const timeline of present) {
    for (const interval of coarsen(timeline, intervalMs).intervals) {
      const list = byAt.get(interval.at)
      if (list) list.push(interval)
      else byAt.set(interval.at, [interval])
    }
  }

  const ats = [...byAt.keys()].sort((a, b) => a - b)
  const intervals: Interval[] = []
  if (ats.length > 0) {
    for (let at = ats[0]; at <= ats.at(-1)!; at += intervalMs) {
      const parts = byAt.get(at)
      intervals.push(parts ? (parts.length === 1 ? parts[0] : combine(at, parts, 'sum')) : emptyInterval(at))
    }
  }

  return bounded({intervalMs, intervals}, max)
}

/** Totals of a timeline, to check it against the run's counters. */
export function timelineTotals(timeline: Timeline): {sent: number; acked: number; failed: number; bytes: number; retries: number; errors: number} {
  const totals = {acked: 0, bytes: 0, errors: 0, failed: 0, retries: 0, sent: 0}
  for (const i of timeline.intervals) {
    totals.sent += i.sent
    totals.acked += i.acked
    totals.failed += i.failed
    totals.bytes += i.bytes
    for (const n of Object.values(i.retries)) totals.retries += n
    for (const n of Object.values(i.errors)) totals.errors += n
  }

  return totals
}
