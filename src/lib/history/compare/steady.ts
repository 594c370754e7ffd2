/**
 * The steady part of a run: the intervals compare takes as evidence. A warm-up
 * is left out (the stage of kind "warmup", by its time, and any interval marked
 * as warm-up); so are the intervals before the first acknowledgement and
 * after the last send: the pipeline filling up and draining (a target slower
 * than an interval acknowledges nothing at first, and after the load stops only
 * the slowest answers are still coming in, which would skew the latencies of
 * those intervals). Then the first and the last of the remaining intervals go,
 * which hold a ramp-up and a tail (partial intervals) rather than the steady
 * state.
 */
import type {IntervalDoc, LoadResultDoc} from '../document.js'

export interface SteadyWindow {
  intervalMs: number
  intervals: IntervalDoc[]
  /** Intervals in the timeline. */
  total: number
  /** Left out as warm-up. */
  warmup: number
  /** Left out before the first acknowledgement and after the last send. */
  filling: number
  /** Left out as the first and last (0 to 2). */
  edges: number
}

/** Epoch ms at which the warm-up ends; undefined without one. */
export function warmupEnd(doc: LoadResultDoc): number | undefined {
  const warmup = (Array.isArray(doc.stages) ? doc.stages : []).find((stage) => stage && stage.kind === 'warmup')
  if (!warmup || typeof warmup.endMs !== 'number') return undefined
  // Stage times are epoch ms, or ms since the run started.
  return warmup.endMs >= 1e11 ? warmup.endMs : Date.parse(doc.startedAt) + warmup.endMs
}

const markedWarmup = (interval: IntervalDoc) => interval.warmup === true || interval.kind === 'warmup'

export function steadyWindow(doc: LoadResultDoc): SteadyWindow {
  const timeline = doc.timeline
  if (!timeline || !Array.isArray(timeline.intervals)) return {edges: 0, filling: 0, intervalMs: 0, intervals: [], total: 0, warmup: 0}
  const end = warmupEnd(doc)
  // An interval that starts before the warm-up ends holds some of it.
  const afterWarmup = timeline.intervals.filter((i) => !markedWarmup(i) && (end === undefined || i.at >= end))
  const firstAnswer = afterWarmup.findIndex((i) => i.acked > 0 || i.failed > 0 || (i.latency?.count ?? 0) > 0)
  const lastSend = afterWarmup.findLastIndex((i) => i.sent > 0)
  const loaded = firstAnswer === -1 || lastSend < firstAnswer ? [] : afterWarmup.slice(firstAnswer, lastSend + 1)
  const edges = Math.min(2, loaded.length)
  return {
    edges,
    filling: afterWarmup.length - loaded.length,
    intervalMs: timeline.intervalMs,
    intervals: loaded.slice(1, -1),
    total: timeline.intervals.length,
    warmup: timeline.intervals.length - afterWarmup.length,
  }
}
