/**
 * A shaped run stage by stage: each stage (and the warm-up) keeps its own
 * counters and its own latency histogram, so a stage's percentiles are its
 * own, never read off a cumulative histogram. A batch belongs to the stage its
 * intended send time falls in. Generator fidelity: the logs the schedule made
 * due in a stage against those sent; a stage more than 2% behind, with no
 * batch waiting for a free in-flight slot (which would be the target's doing),
 * is generator-limited: its result is about the generator, not the target.
 */
import type {Segment} from '../send/schedule.js'

import {decodeHistogram, encodeHistogram, type Histogram, newHistogram, recordMs, summarize} from './histogram.js'
import {perSecond} from './rate.js'

import {GENERATOR_TOLERANCE} from './fidelity.js'

export interface StageResult {
  kind: 'warmup' | 'stage'
  /** Among the stages (the warm-up is -1). */
  index: number
  fromLogsPerSecond: number
  targetLogsPerSecond: number
  /** Offsets from the start of the run, ms. */
  startMs: number
  endMs: number
  logs: {sent: number; acked: number; failed: number}
  /** Logs the schedule made due in the stage. */
  intended: number
  /** Batches that waited for a free in-flight slot. */
  slotWaits: number
  achievedLogsPerSecond: number
  latency: {p50Ms: number; p90Ms: number; p99Ms: number; p999Ms: number; maxMs: number; count: number}
  /** Batches of the stage that failed for good. */
  errors: number
  /** The generator fell behind the schedule in this stage (sent < intended by more than 2%, not for want of slots). */
  generatorLimited: boolean
  /** The stage's own latency histogram (µs, compressed base64), for merging. */
  histogram: string
}

export class StageCounter {
  sent = 0
  acked = 0
  failed = 0
  errors = 0
  slotWaits = 0
  readonly histogram: Histogram = newHistogram()

  constructor(readonly segment: Segment) {}

  get warmup(): boolean {
    return this.segment.kind === 'warmup'
  }

  answered(latencyMs: number): void {
    recordMs(this.histogram, latencyMs)
  }
}

function latencyOf(histogram: Histogram): StageResult['latency'] {
  const {count, maxMs, p50Ms, p90Ms, p99Ms, p999Ms} = summarize(histogram)
  return {count, maxMs, p50Ms, p90Ms, p999Ms, p99Ms}
}

/** Generator-limited: sends more than 2% behind what the schedule made due, and never for want of a slot. */
export function generatorLimited(stage: Pick<StageResult, 'intended' | 'slotWaits'> & {logs: {sent: number}}): boolean {
  return stage.intended > 0 && stage.logs.sent < stage.intended * (1 - GENERATOR_TOLERANCE) && stage.slotWaits === 0
}

/** The results of each stage, in order, the warm-up first; `intended` comes from the schedule. */
export function stageResults(counters: readonly StageCounter[], intended: (segment: Segment) => number): StageResult[] {
  return counters.map((counter) => {
    const {segment} = counter
    const result: StageResult = {
      achievedLogsPerSecond: perSecond(counter.acked, segment.endMs - segment.startMs),
      endMs: segment.endMs,
      errors: counter.errors,
      fromLogsPerSecond: segment.from,
      generatorLimited: false,
      histogram: counter.histogram.totalCount > 0 ? encodeHistogram(counter.histogram) : '',
      index: segment.index,
      intended: Math.round(intended(segment)),
      kind: segment.kind,
      latency: latencyOf(counter.histogram),
      logs: {acked: counter.acked, failed: counter.failed, sent: counter.sent},
      slotWaits: counter.slotWaits,
      startMs: segment.startMs,
      targetLogsPerSecond: segment.to,
    }
    result.generatorLimited = generatorLimited(result)
    return result
  })
}

/**
 * The stages of several workers as one: counters and rates add up, histograms merge. Workers of
 * one run share the stage layout; a stage one of them lacks counts as empty there.
 */
export function mergeStages(lists: readonly (readonly StageResult[] | undefined)[]): StageResult[] | undefined {
  const present = lists.filter((list): list is readonly StageResult[] => Array.isArray(list) && list.length > 0)
  if (present.length === 0) return undefined
  const byKey = new Map<string, StageResult[]>()
  for (const list of present) {
    for (const stage of list) {
      const key = `${stage.kind}:${stage.index}`
      const group = byKey.get(key)
      if (group) group.push(stage)
      else byKey.set(key, [stage])
    }
  }

  const merged = [...byKey.values()].map((group) => {
    const first = group[0]
    const sum = (read: (stage: StageResult) => number) => group.reduce((total, stage) => total + read(stage), 0)
    const histograms = group.filter((stage) => stage.histogram).map((stage) => decodeHistogram(stage.histogram))
    const histogram = newHistogram()
    for (const h of histograms) histogram.add(h)
    const logs = {acked: sum((s) => s.logs.acked), failed: sum((s) => s.logs.failed), sent: sum((s) => s.logs.sent)}
    const result: StageResult = {
      achievedLogsPerSecond: perSecond(logs.acked, first.endMs - first.startMs),
      endMs: Math.max(...group.map((s) => s.endMs)),
      errors: sum((s) => s.errors),
      fromLogsPerSecond: sum((s) => s.fromLogsPerSecond),
      generatorLimited: false,
      histogram: histogram.totalCount > 0 ? encodeHistogram(histogram) : '',
      index: first.index,
      intended: sum((s) => s.intended),
      kind: first.kind,
      latency: latencyOf(histogram),
      logs,
      slotWaits: sum((s) => s.slotWaits),
      startMs: Math.min(...group.map((s) => s.startMs)),
      targetLogsPerSecond: sum((s) => s.targetLogsPerSecond),
    }
    // A worker that fell behind limits the whole stage, whatever the sums say.
    result.generatorLimited = generatorLimited(result) || group.some((stage) => stage.generatorLimited)
    return result
  })
  return merged.sort((a, b) => a.startMs - b.startMs || a.index - b.index)
}
