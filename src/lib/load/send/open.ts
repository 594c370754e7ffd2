/**
 * The open model: batch b is due when the schedule (schedule.ts: a constant
 * rate, or stages after a warm-up) has made b x batchSize logs due, whatever
 * the target does. Its latency runs from that intended time, not from when it
 * could be sent, so a stalled target shows in the percentiles (no coordinated
 * omission). At most `cap` batches are outstanding; a batch waiting for a slot
 * keeps accruing latency, and the wait is counted (the target was too slow).
 */
import type {Schedule} from './schedule.js'
import type {SendState} from './state.js'

export interface OpenPlan {
  schedule: Schedule
  batchSize: number
  totalBatches: number
  /** Stop starting batches this long after the start, ms. */
  durationMs?: number
  /** Batches outstanding at most. */
  cap: number
}

export async function runOpen(state: SendState, plan: OpenPlan, send: (b: number, intendedAt: number) => Promise<void>): Promise<void> {
  const {clock, start} = state
  const {durationMs, schedule} = plan
  const cap = Math.max(1, plan.cap)
  const pending = new Set<Promise<void>>()
  for (let b = 0; b < plan.totalBatches && !state.stopped; b++) {
    const offset = schedule.timeOf(b * plan.batchSize)
    if (!Number.isFinite(offset)) break
    const intendedAt = start + offset
    if (durationMs !== undefined && offset >= durationMs) break
    const wait = intendedAt - clock.now()
    if (wait > 0) await clock.sleep(wait, state.stopSignal)
    if (pending.size >= cap && !state.stopped) {
      state.slotWaited(offset)
      while (pending.size >= cap && !state.stopped) await Promise.race(pending)
    }

    if (state.stopped) break
    // The schedule bounds real time: a target too slow for the rate does not stretch the run; the
    // batches it had no time for show as an achieved rate below the target.
    if (durationMs !== undefined && clock.now() >= start + durationMs) break
    const promise: Promise<void> = state.track(() => send(b, intendedAt)).finally(() => pending.delete(promise))
    pending.add(promise)
  }

  await Promise.all(pending)
}
