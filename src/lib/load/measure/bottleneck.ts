/**
 * What limited the result, in words, drawn only from the measurements: the
 * generators' busy share, the latency and parts over time, the bursts of
 * retries, the rate asked for and achieved.
 */
import type {ClickHouseView} from './clickhouse-view.js'
import type {ResourceSeries} from './resources.js'
import type {Interval, Timeline} from './timeline.js'
import {int, msText as formatMs} from '../../format/units.js'
import {generatorBehind, shortfallOf} from './fidelity.js'

export type BottleneckKind = 'generator' | 'shared-process' | 'target-parts' | 'target-backpressure' | 'target' | 'none'

export interface Bottleneck {
  kind: BottleneckKind
  /** One sentence: what limited the figure. */
  summary: string
  /** The measurements it follows from. */
  evidence: string[]
}

/** A worker's figures, as the verdict needs them. */
export interface GeneratorFigures {
  durationMs: number
  cpuMs: number
  /** Time the event loop was busy, ms (absent in older results). */
  busyMs?: number
  /** The worker's own timeline: its busy share is read in the steady part of the run. */
  timeline?: Timeline
}

export interface VerdictInput {
  model: 'closed' | 'open'
  concurrency: number
  workers: GeneratorFigures[]
  timeline?: Timeline
  clickhouse?: ClickHouseView | null
  serveResources?: ResourceSeries | null
  rate: {targetLogsPerSecond: number; achievedLogsPerSecond: number} | null
  retriesByClass: Record<string, number>
  errors: number
  acked: number
  p50Ms: number
  p99Ms: number
  /** The generator shared its process with serve and the engine (a zero set-up `run`). */
  sharedProcess?: boolean
}

/** Share (of its event loop's time, or of a CPU core) at which a generator is saturated. */
export const SATURATED = 0.9

const pct = (share: number) => `${Math.round(share * 100)}%`
const msText = (ms: number) => `${formatMs(ms)} ms`

/** Intervals while the run was under way (the first and last may be partial: trimmed when there are enough). */
function activeIntervals(timeline: Timeline | undefined): Interval[] {
  if (!timeline) return []
  const list = timeline.intervals
  let first = list.findIndex((i) => i.sent > 0 || i.acked > 0)
  let last = list.findLastIndex((i) => i.sent > 0 || i.acked > 0)
  if (first === -1) return []
  if (last - first >= 4) {
    first++
    last--
  }

  return list.slice(first, last + 1)
}

/** Stretches of consecutive intervals without an acknowledgement while batches were outstanding. */
export function stalls(timeline: Timeline | undefined): {at: number; ms: number}[] {
  if (!timeline) return []
  const list = timeline.intervals
  const firstAck = list.findIndex((i) => i.acked > 0)
  const lastAck = list.findLastIndex((i) => i.acked > 0)
  const found: {at: number; ms: number}[] = []
  let start = -1
  for (let i = firstAck + 1; i < lastAck; i++) {
    if (list[i].acked === 0) {
      if (start === -1) start = i
    } else if (start !== -1) {
      found.push({at: list[start].at, ms: (i - start) * timeline.intervalMs})
      start = -1
    }
  }

  return found
}

/** The median of the per-interval shares of the steady part of the run, or undefined without a timeline of 3 such intervals. */
function steadyMedian(worker: GeneratorFigures, field: 'busyMs' | 'cpuMs'): number | undefined {
  const steady = activeIntervals(worker.timeline).filter((i) => i[field] !== undefined)
  if (!worker.timeline || steady.length < 3) return undefined
  const shares = steady.map((i) => i[field]! / worker.timeline!.intervalMs).sort((a, b) => a - b)
  return shares[Math.floor(shares.length / 2)]
}

/**
 * A worker's busy share (of its event loop's time) and CPU share (of one core): medians over the
 * intervals of the steady part of the run (start-up and the last, partial interval left out) when its
 * timeline has them; over the whole run otherwise.
 */
function workerShares(worker: GeneratorFigures): {busy: number; cpu: number} {
  const busy = steadyMedian(worker, 'busyMs') ?? (worker.busyMs ?? worker.cpuMs) / worker.durationMs
  const cpu = steadyMedian(worker, 'cpuMs') ?? worker.cpuMs / worker.durationMs
  return {busy: Math.min(1, busy), cpu}
}

function generatorShare(workers: readonly GeneratorFigures[]): {busy: number; cpu: number} | undefined {
  const measured = workers.filter((w) => w.durationMs > 0).map((w) => workerShares(w))
  if (measured.length === 0) return undefined
  return {busy: measured.reduce((sum, w) => sum + w.busy, 0) / measured.length, cpu: measured.reduce((sum, w) => sum + w.cpu, 0) / measured.length}
}

function partsClimb(view: ClickHouseView | null | undefined): {from: number; to: number} | undefined {
  if (!view || view.samples.length < 2) return undefined
  const parts = view.samples.map((s) => s.maxPartsPerPartition)
  const from = Math.min(...parts.slice(0, Math.max(1, Math.ceil(parts.length / 4))))
  const to = Math.max(...parts)
  const delay = view.limits.partsToDelayInsert
  const climbed = to >= from + 3 && (delay ? to > delay / 2 : to >= 2 * Math.max(1, from))
  return climbed ? {from, to} : undefined
}

/** p99 of the first and of the last third of the active intervals. */
function latencyTrend(intervals: readonly Interval[]): {early: number; late: number} | undefined {
  const withAcks = intervals.filter((i) => i.latency.count > 0)
  if (withAcks.length < 3) return undefined
  const third = Math.max(1, Math.floor(withAcks.length / 3))
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
  return {early: median(withAcks.slice(0, third).map((i) => i.latency.p99Ms)), late: median(withAcks.slice(-third).map((i) => i.latency.p99Ms))}
}

/** Retries of a class concentrated in few intervals: at least half of them in at most a fifth of the active intervals. */
function retryBursts(intervals: readonly Interval[], cls: string): {count: number; share: number; intervals: number} | undefined {
  const counts = intervals.map((i) => i.retries[cls] ?? 0).filter((n) => n > 0)
  const total = counts.reduce((sum, n) => sum + n, 0)
  if (total === 0) return undefined
  const sorted = [...counts].sort((a, b) => b - a)
  const limit = Math.max(1, Math.floor(intervals.length / 5))
  const top = sorted.slice(0, limit).reduce((sum, n) => sum + n, 0)
  return top / total >= 0.5 ? {count: total, intervals: Math.min(limit, sorted.length), share: top / total} : undefined
}

/** A share of a whole, as a rounded percentage. */
const shareText = (part: number, whole: number) => pct(whole > 0 ? part / whole : 0)

/**
 * Did the generator limit the run, from what the senders observed in the steady intervals of their own
 * timelines? Closed model: free in-flight slots waited at least as long for the generator's next batch as
 * batches waited for their answers with the sender's event loop idle. Open model: sends fell more than 2%
 * behind the logs the schedule made due, and no batch had to wait for a free slot (that would be the
 * target's doing). Undefined when the timelines lack these figures.
 */
export function senderView(workers: readonly GeneratorFigures[]): {limited: boolean; summary: string; evidence: string} | undefined {
  const steady = workers.flatMap((worker) => activeIntervals(worker.timeline))
  const sum = (read: (i: Interval) => number | undefined) => steady.reduce((total, i) => total + (read(i) ?? 0), 0)
  if (steady.some((i) => i.generatorWaitMs !== undefined || i.answerWaitMs !== undefined)) {
    const generator = sum((i) => i.generatorWaitMs)
    const answers = sum((i) => i.answerWaitMs)
    const limited = generator > 0 && generator >= answers
    const split = `free in-flight slots spent ${shareText(generator, generator + answers)} of their time waiting for the generator's next batch and ${shareText(answers, generator + answers)} waiting idle for answers (steady intervals)`
    return {evidence: split, limited, summary: split}
  }

  const shortfalls = workers.map((worker) => shortfallOf(activeIntervals(worker.timeline), {intervalMs: worker.timeline?.intervalMs ?? 1000, processes: 1}))
  if (shortfalls.some((s) => s !== undefined)) {
    const total = {behind: 0, intended: 0, sent: 0, slotWaits: 0}
    for (const s of shortfalls) if (s) for (const key of ['behind', 'intended', 'sent', 'slotWaits'] as const) total[key] += s[key]
    const behind = total.intended > 0 ? 1 - total.sent / total.intended : 0
    const limited = generatorBehind(total)
    const line = `sends were ${behind > 0 ? `${pct(behind)} behind` : 'on'} the schedule (${int(total.sent)} of ${int(total.intended)} logs due, steady intervals)${total.slotWaits > 0 ? `; ${int(total.slotWaits)} batches waited for a free in-flight slot${limited ? ', while the generator\'s event loop was saturated' : ''}` : ''}`
    return {evidence: line, limited, summary: line}
  }

  return undefined
}

export function bottleneck(input: VerdictInput): Bottleneck {
  const evidence: string[] = []
  const share = generatorShare(input.workers)
  const intervals = activeIntervals(input.timeline)
  if (share) {
    const who = input.workers.length > 1 ? `the ${input.workers.length} generators` : 'the generator'
    evidence.push(`${who} kept ${input.workers.length > 1 ? 'their' : 'its'} event loop busy ${pct(share.busy)} of the time (median interval), using ${pct(share.cpu)} of a CPU core${input.workers.length > 1 ? ' each on average' : ''} (median interval)`)
  }

  const serve = input.serveResources
  let serveBusy: number | undefined
  if (serve && serve.samples.length > 0) {
    const shares = serve.samples.map((s) => s.cpuMs / serve.intervalMs)
    const peak = Math.max(...shares)
    // The median of the samples inside the run (the last one is partial).
    const inner = shares.length > 2 ? shares.slice(0, -1) : shares
    serveBusy = [...inner].sort((a, b) => a - b)[Math.floor(inner.length / 2)]
    evidence.push(`serve used ${pct(serveBusy)} of a CPU core in the median interval, up to ${pct(peak)}`)
  }

  for (const stall of stalls(input.timeline)) {
    evidence.push(`no acknowledgement for ${(stall.ms / 1000).toFixed(stall.ms % 1000 === 0 ? 0 : 1)} s from ${new Date(stall.at).toISOString().slice(11, 19)} UTC`)
  }

  const climb = partsClimb(input.clickhouse)
  const trend = latencyTrend(intervals)
  const delay = input.clickhouse?.limits.partsToDelayInsert
  if (climb) evidence.push(`active parts in one partition rose from ${climb.from} to ${climb.to}${delay ? ` (parts_to_delay_insert = ${delay})` : ''}`)
  if (trend) evidence.push(`p99 per interval went from ${msText(trend.early)} early in the run to ${msText(trend.late)} at its end`)

  // What the senders themselves saw decides: free slots waiting for the next batch (closed model), sends
  // behind their schedule (open model). The CPU and event-loop shares are evidence; they decide only for
  // results that lack the senders' figures (older versions), where a generator at 90% of its loop or of a
  // core counts as saturated.
  const observed = senderView(input.workers)
  if (observed) evidence.push(observed.evidence)
  const saturation = share ? Math.max(share.busy, share.cpu) : 0
  const saturated = observed ? observed.limited : share !== undefined && saturation >= SATURATED
  if (saturated) {
    const why = observed
      ? observed.summary
      : `${share!.cpu >= share!.busy ? `using ${pct(share!.cpu)} of a CPU core` : `busy ${pct(share!.busy)} of the time`}, ≥ ${pct(SATURATED)}`
    if (input.sharedProcess) {
      return {
        evidence,
        kind: 'shared-process',
        summary: `This process ran the generator, serve and the engine together and could not keep up (${why}): the figure understates the target; run "logbench parallel" (generators in processes of their own) or point --target at a serve elsewhere.`,
      }
    }

    return {
      evidence,
      kind: 'generator',
      summary: `The generators were saturated (${why}): the figure understates what the target can take; add workers or hosts.`,
    }
  }

  if (climb && trend && trend.late > trend.early * 1.5) {
    return {
      evidence,
      kind: 'target-parts',
      summary: `The target answered slower while ClickHouse's parts climbed (p99 ${msText(trend.early)} → ${msText(trend.late)}, parts per partition ${climb.from} → ${climb.to}): inserts are too small or too frequent for merges to keep up.`,
    }
  }

  for (const cls of ['http_503', 'http_429']) {
    const bursts = retryBursts(intervals.length > 0 ? intervals : (input.timeline?.intervals ?? []), cls)
    if (bursts) {
      const status = cls.slice(5)
      return {
        evidence: [...evidence, `${bursts.count} retries at ${status}, ${pct(bursts.share)} of them in ${bursts.intervals} interval${bursts.intervals === 1 ? '' : 's'}`],
        kind: 'target-backpressure',
        summary: `Retries came in bursts at ${status}: the target pushed back when its buffer filled, so its ingest path, not the generators, set the pace.`,
      }
    }
  }

  if (input.rate) {
    const {achievedLogsPerSecond: achieved, targetLogsPerSecond: target} = input.rate
    if (target > 0 && achieved >= target * 0.97 && input.errors === 0) {
      return {
        evidence,
        kind: 'none',
        summary: `Nothing saturated: the target kept up with the ${int(target)} logs/s asked for (p99 ${msText(input.p99Ms)}); raise --rate to find its limit.`,
      }
    }

    return {
      evidence,
      kind: 'target',
      summary: `The target did not keep up with the rate asked for: ${int(achieved)} of ${int(target)} logs/s, while the generators had time to spare.`,
    }
  }

  if (input.acked === 0) return {evidence, kind: 'target', summary: 'The target acknowledged nothing: nothing can be said about its capacity.'}
  if (serveBusy !== undefined && serveBusy >= SATURATED) {
    return {
      evidence,
      kind: 'target',
      summary: `The target set the pace: logbench's serve was CPU-bound (${pct(serveBusy)} of a core in the median interval, with the store's work in its process when the engine is embedded) while the generators had time to spare.`,
    }
  }

  return {
    evidence,
    kind: 'target',
    summary: `The target set the pace: the generators had time to spare while each of their ${input.concurrency} batches in flight waited ${msText(input.p50Ms)} (p50) for its answer; raise --concurrency or add workers to push harder.`,
  }
}
