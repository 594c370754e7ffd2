/**
 * The verdict of one capacity trial, drawn from that trial's own window only:
 * the timeline intervals after its warm-up (never a cumulative figure), its
 * verification, and ClickHouse's view of the same span. Every reason is named:
 *
 * - generator: the generator fell behind its own schedule (the trial is
 *   inconclusive: it says nothing about the target);
 * - latency: an SLO on the window's merged histogram failed;
 * - backlog: the p99 climbs through the window (its first third against its
 *   last, the middle third between them) and the median with it, or the target answered less than half of
 *   what was due;
 * - errors: an SLO on errors failed (error_rate<=0.1% unless one is given);
 * - loss: acknowledged logs missing or duplicated after --verify-wait;
 * - parts: ClickHouse's parts per partition climbing toward
 *   parts_to_delay_insert, or INSERTs it delayed or refused.
 */
import type {ClickHouseSample, ClickHouseView} from '../load/measure/clickhouse-view.js'
import type {Interval, Timeline} from '../load/measure/timeline.js'
import type {Measurements, ThresholdOutcome} from '../load/result/types.js'
import type {Verification} from '../verify/verify.js'

import {evaluateThresholds} from '../load/checks/thresholds.js'
import {generatorBehind, shortfallOf} from '../load/measure/fidelity.js'
import {decodeHistogram, mergeHistograms, summarize} from '../load/measure/histogram.js'
import {formatFixed, formatInt} from '../format/units.js'
import {type Reason, REASONS, type Slo} from './options.js'
import type {Verdict} from './search.js'

/** The intervals of a trial's timeline (generator fidelity: `intended` and `slotWaits`, measure/fidelity.ts). */
export type TrialInterval = Interval

/**
 * The p99 climbs when each third of the window is above the one before and it grows at least this
 * fast from the first third to the last, in ms of latency per second of trial (a queue that grows
 * by 1% of the rate adds 10 ms a second), however high it began (a queue built in the warm-up
 * still grows) ...
 */
export const BACKLOG_MS_PER_S = 10
/**
 * ... and the median climbs along in the same way, at least half as fast: a queue delays every
 * batch, while stalls (a collection, a busy neighbour) lift only the tail.
 */
export const BACKLOG_MEDIAN_SHARE = 0.5
/** A target that answered less than this share of the logs due in the window is not keeping up. */
export const ANSWERED_SHARE = 0.5

/** What a trial measured, as the judge reads it. */
export interface TrialFigures {
  offeredLogsPerSecond: number
  /** The trial's timeline, merged over its workers. */
  timeline: Timeline | undefined
  /** When sending began (epoch ms). */
  startedAtMs: number
  /** The warm-up, excluded from the window (ms). */
  warmupMs: number
  /** When the schedule ended: start + warm-up + trial (epoch ms). */
  scheduleEndMs: number
  /** The last answer (epoch ms). */
  endedAtMs: number
  verification: Verification | null
  clickhouse?: ClickHouseView | null
  /** Workers that failed, in words: the generator did not run as planned. */
  workerFailures?: string[]
  /** The worker processes the timeline merges (their event loops' busy time adds up). */
  processes?: number
}

export interface TrialLatency {
  p50Ms: number
  p90Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
}

export interface TrialWindow {
  /** The first interval after the warm-up, and the end of the window (ISO-8601). */
  startedAt: string
  endedAt: string
  durationMs: number
  intervals: number
  logs: {sent: number; acked: number; failed: number}
  /** Batches acknowledged in the window (the histogram's count). */
  batches: number
  /** Logs the schedule made due in the window (from the timeline's `intended`, or from the rate). */
  dueLogs: number
}

export interface TrialJudgement {
  offeredLogsPerSecond: number
  achievedLogsPerSecond: number
  latency: TrialLatency
  /** Failed logs over logs sent in the window. */
  errorRate: number
  /** Acknowledged logs missing from storage; null when not verified. */
  lost: number | null
  duplicated: number | null
  verdict: Verdict
  reasons: Reason[]
  /** One sentence for each reason, with the figures it follows from. */
  evidence: {reason: Reason; text: string}[]
  /** Each SLO on the window; `kind` is the reason a breach is named by. */
  slos: (ThresholdOutcome & {kind: Reason; implicit?: boolean})[]
  window: TrialWindow
}

const EMPTY_LATENCY: TrialLatency = {maxMs: 0, p50Ms: 0, p90Ms: 0, p999Ms: 0, p99Ms: 0}

/** The intervals of the window: from the first that starts after the warm-up to the last with any activity. */
export function windowIntervals(timeline: Timeline | undefined, windowStartMs: number): TrialInterval[] {
  if (!timeline) return []
  const after = timeline.intervals.filter((i) => i.at >= windowStartMs) as TrialInterval[]
  const last = after.findLastIndex((i) => i.sent > 0 || i.acked > 0 || i.failed > 0)
  return after.slice(0, last + 1)
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * A percentile of the window's first third against its last: the median of the per-interval
 * values of each third (so one stalled interval does not make a trend), and how fast it grew
 * between them.
 */
export function latencyTrend(
  intervals: readonly Interval[],
  intervalMs: number,
  key: 'p50Ms' | 'p99Ms' = 'p99Ms',
): {earlyMs: number; middleMs: number; lateMs: number; msPerSecond: number} | undefined {
  const answered = intervals.filter((i) => i.latency.count > 0)
  if (answered.length < 3) return undefined
  const third = Math.floor(answered.length / 3)
  const first = answered.slice(0, third)
  const between = answered.slice(third, -third)
  const last = answered.slice(-third)
  const centre = (list: readonly Interval[]) => (list[0].at + list.at(-1)!.at + intervalMs) / 2
  const seconds = (centre(last) - centre(first)) / 1000
  const earlyMs = median(first.map((i) => i.latency[key]))
  const lateMs = median(last.map((i) => i.latency[key]))
  return {earlyMs, lateMs, middleMs: median(between.map((i) => i.latency[key])), msPerSecond: seconds > 0 ? (lateMs - earlyMs) / seconds : 0}
}

/** A climb through the whole window: each third above the one before, fast enough, and well above where it began. */
function climbs(trend: {earlyMs: number; middleMs: number; lateMs: number; msPerSecond: number}, minMsPerSecond: number): boolean {
  return trend.earlyMs < trend.middleMs && trend.middleMs < trend.lateMs && trend.msPerSecond >= minMsPerSecond
}

/** The p99 trend of the window (see latencyTrend). */
export const p99Trend = (intervals: readonly Interval[], intervalMs: number) => latencyTrend(intervals, intervalMs, 'p99Ms')

/** ClickHouse's parts in the window: climbing toward parts_to_delay_insert, or INSERTs delayed or refused. */
export function partsTrouble(view: ClickHouseView | null | undefined, windowStartMs: number): string | undefined {
  if (!view) return undefined
  const samples: ClickHouseSample[] = view.samples.filter((s) => s.at >= windowStartMs)
  if (samples.length === 0) return undefined
  const rejected = samples.reduce((sum, s) => sum + s.rejectedInserts, 0)
  const delayed = samples.reduce((sum, s) => sum + s.delayedInserts, 0)
  if (rejected > 0) return `ClickHouse refused ${formatInt(rejected)} INSERTs for too many parts during the window (server-wide count)`
  if (delayed > 0) return `ClickHouse delayed ${formatInt(delayed)} INSERTs for too many parts during the window (server-wide count)`
  const delay = view.limits.partsToDelayInsert
  if (!delay || samples.length < 3) return undefined
  const third = Math.floor(samples.length / 3)
  const early = Math.max(...samples.slice(0, third).map((s) => s.maxPartsPerPartition))
  const late = Math.max(...samples.slice(-third).map((s) => s.maxPartsPerPartition))
  const limit = `parts_to_delay_insert = ${formatInt(delay)}`
  if (late >= delay) return `${view.table} reached ${formatInt(late)} active parts in one partition: ${limit}`
  if (late >= delay / 2 && late - early >= 2) return `${view.table}'s active parts in one partition climbed from ${formatInt(early)} to ${formatInt(late)} during the window, past half of ${limit}`
  return undefined
}

/** The window as Measurements, so the SLOs are read by the threshold grammar's own metrics. */
function windowMeasurements(intervals: readonly TrialInterval[], figures: TrialFigures, span: {startMs: number; endMs: number}): Measurements {
  const histograms = intervals.filter((i) => i.histogram).map((i) => decodeHistogram(i.histogram))
  const latency = summarize(mergeHistograms(histograms))
  const sum = (key: 'sent' | 'acked' | 'failed' | 'bytes') => intervals.reduce((total, i) => total + i[key], 0)
  const count = (key: 'errors' | 'retries') => intervals.reduce((total, i) => total + Object.values(i[key]).reduce((a, b) => a + b, 0), 0)
  const seconds = Math.max(0.001, (span.endMs - span.startMs) / 1000)
  const acked = sum('acked')
  const achieved = Math.round((acked / seconds) * 10) / 10
  return {
    batches: {acked: latency.count, failed: count('errors'), sent: latency.count + count('errors')},
    bytes: {sent: sum('bytes')},
    durationMs: span.endMs - span.startMs,
    endedAt: new Date(span.endMs).toISOString(),
    errors: {byClass: {}, samples: {}, total: count('errors')},
    failedBatches: {keys: [], truncated: false},
    interrupted: false,
    latency: {...latency, histogram: ''},
    logs: {acked, failed: sum('failed'), sent: sum('sent')},
    rate: {achievedLogsPerSecond: achieved, targetLogsPerSecond: figures.offeredLogsPerSecond},
    retries: {byClass: {}, count: count('retries')},
    runId: '',
    serviceLatency: {...latency, histogram: ''},
    startedAt: new Date(span.startMs).toISOString(),
    thresholds: [],
    throughput: {batchesPerSecond: latency.count / seconds, bytesPerSecond: sum('bytes') / seconds, logsPerSecond: achieved},
    verification: figures.verification,
  }
}

const pct = (share: number) => `${formatFixed(share * 100, share < 0.1 ? 2 : 1)}%`
const msOf = (ms: number) => formatFixed(ms, 1)

export function judgeTrial(figures: TrialFigures, slos: readonly Slo[]): TrialJudgement {
  const intervalMs = figures.timeline?.intervalMs ?? 1000
  const windowStartMs = figures.startedAtMs + figures.warmupMs
  const intervals = windowIntervals(figures.timeline, windowStartMs)
  const startMs = intervals[0]?.at ?? windowStartMs
  const endMs = intervals.length > 0 ? Math.max(startMs + 1, Math.min(intervals.at(-1)!.at + intervalMs, figures.endedAtMs)) : startMs
  const m = windowMeasurements(intervals, figures, {endMs, startMs})
  const evidence: {reason: Reason; text: string}[] = []
  const add = (reason: Reason, text: string) => evidence.push({reason, text})

  // Generator fidelity: a worker that failed, or sends behind the schedule that no slot wait explains.
  for (const failure of figures.workerFailures ?? []) add('generator', failure)
  const fidelity = shortfallOf(intervals, {intervalMs, processes: figures.processes ?? 1})
  if (fidelity && generatorBehind(fidelity)) {
    add('generator', `the generator sent ${formatInt(fidelity.sent)} of the ${formatInt(fidelity.intended)} logs its schedule made due in the window, ${pct(fidelity.behind / fidelity.intended)} behind without waiting for the target`)
  }

  // The SLOs, on the window's own figures (latency from the merged histogram of its intervals).
  const outcomes = evaluateThresholds(
    slos.map((slo) => slo.threshold),
    m,
  ).map((outcome, n) => ({...outcome, implicit: slos[n].implicit, kind: slos[n].reason}))
  for (const outcome of outcomes) {
    if (outcome.ok) continue
    const value = (n: number) => (outcome.metric === 'error_rate' ? pct(n) : outcome.kind === 'latency' ? `${msOf(n)} ms` : formatInt(n))
    add(outcome.kind, outcome.actual === null ? `${outcome.expression}: ${outcome.reason ?? 'not measured'}` : `${outcome.metric} ${value(outcome.actual)} breaks ${outcome.expression}`)
  }

  // Backlog: the queue grows through the window, or the target answers much less than was due.
  const dueLogs = fidelity ? fidelity.intended : Math.max(0, Math.round((figures.offeredLogsPerSecond * (figures.scheduleEndMs - startMs)) / 1000))
  const answered = m.logs.acked + m.logs.failed
  const trend = p99Trend(intervals, intervalMs)
  const medianTrend = latencyTrend(intervals, intervalMs, 'p50Ms')
  if (dueLogs > 0 && answered < ANSWERED_SHARE * dueLogs) {
    add('backlog', `the target answered ${formatInt(answered)} of the ${formatInt(dueLogs)} logs due in the window`)
  } else if (
    trend &&
    medianTrend &&
    climbs(trend, BACKLOG_MS_PER_S) &&
    climbs(medianTrend, BACKLOG_MEDIAN_SHARE * trend.msPerSecond)
  ) {
    add(
      'backlog',
      `p99 climbed from ${msOf(trend.earlyMs)} ms (first third of the window) to ${msOf(trend.lateMs)} ms (last third), ${msOf(trend.msPerSecond)} ms more every second, and the median with it (${msOf(medianTrend.earlyMs)} to ${msOf(medianTrend.lateMs)} ms): a queue that grows`,
    )
  }

  const parts = partsTrouble(figures.clickhouse, windowStartMs)
  if (parts) add('parts', parts)

  const fired = new Set(evidence.map((e) => e.reason))
  const reasons = REASONS.filter((reason) => fired.has(reason))
  evidence.sort((a, b) => REASONS.indexOf(a.reason) - REASONS.indexOf(b.reason))
  const verdict: Verdict = fired.has('generator') ? 'inconclusive' : reasons.length > 0 ? 'fail' : 'pass'
  const {latency} = m
  return {
    achievedLogsPerSecond: m.throughput.logsPerSecond,
    duplicated: figures.verification ? figures.verification.duplicated : null,
    errorRate: m.logs.sent > 0 ? m.logs.failed / m.logs.sent : 0,
    evidence,
    latency: latency.count > 0 ? {maxMs: latency.maxMs, p50Ms: latency.p50Ms, p90Ms: latency.p90Ms, p999Ms: latency.p999Ms, p99Ms: latency.p99Ms} : {...EMPTY_LATENCY},
    lost: figures.verification ? figures.verification.missing : null,
    offeredLogsPerSecond: figures.offeredLogsPerSecond,
    reasons,
    slos: outcomes,
    verdict,
    window: {
      batches: latency.count,
      dueLogs,
      durationMs: endMs - startMs,
      endedAt: new Date(endMs).toISOString(),
      intervals: intervals.length,
      logs: m.logs,
      startedAt: new Date(startMs).toISOString(),
    },
  }
}
