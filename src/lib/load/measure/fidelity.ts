/**
 * Generator fidelity of an open-model run: did the sends keep the schedule?
 * Per interval, the logs the schedule made due (`intended`) against those sent.
 * A shortfall in an interval where batches waited for a free in-flight slot is
 * the target's doing (it did not answer fast enough to free one), unless the
 * generator's own event loop was saturated there: then the answers were late
 * to be taken because the generator was busy, and the shortfall is its own.
 */
import type {Interval} from './timeline.js'

/** Sends may fall this far behind the schedule before the generator is said to be the limit. */
export const GENERATOR_TOLERANCE = 0.02

/** An event loop busy this share of an interval has no time left to take answers. */
export const LOOP_SATURATED = 0.9

export interface Shortfall {
  /** Logs due in the intervals read. */
  intended: number
  sent: number
  /** Logs behind the schedule that no slot wait of a free-running generator explains. */
  behind: number
  /** Batches that waited for a slot. */
  slotWaits: number
}

/** The shortfall of these intervals (of `processes` generator processes, merged); undefined without the figures. */
export function shortfallOf(intervals: readonly Interval[], options: {intervalMs: number; processes: number}): Shortfall | undefined {
  if (!intervals.some((i) => typeof i.intended === 'number')) return undefined
  const result: Shortfall = {behind: 0, intended: 0, sent: 0, slotWaits: 0}
  for (const i of intervals) {
    const intended = i.intended ?? 0
    result.intended += intended
    result.sent += i.sent
    result.slotWaits += i.slotWaits ?? 0
    const saturated = (i.busyMs ?? 0) >= LOOP_SATURATED * options.intervalMs * options.processes
    if (!((i.slotWaits ?? 0) > 0) || saturated) result.behind += intended - i.sent
  }

  result.behind = Math.max(0, result.behind)
  return result
}

/** The generator fell behind: more than the tolerance, with no target to blame. */
export const generatorBehind = (shortfall: Shortfall | undefined): boolean => shortfall !== undefined && shortfall.intended > 0 && shortfall.behind > GENERATOR_TOLERANCE * shortfall.intended
