/**
 * The open model: batch b is due at start + b·batchSize/rate, whatever the
 * target does. Its latency runs from that intended time, not from when it
 * could be sent, so a stalled target shows in the percentiles (no coordinated
 * omission). At most `cap` batches are outstanding; a batch waiting for a slot
 * keeps accruing latency.
 */
import type {SendState} from './state.js'

export interface OpenPlan {
  /** Logs per second of this worker. */
  rate: number
  batchSize: number
  totalBatches: number
  durationMs?: number
  /** Batches outstanding at most. */
  cap: number
}

export async function runOpen(state: SendState, plan: OpenPlan, send: (b: number, intendedAt: number) => Promise<void>): Promise<void> {
  const {clock, start} = state
  const {rate, durationMs} = plan
  if (!(rate > 0)) throw new TypeError('rate must be > 0')
  const cap = Math.max(1, plan.cap)
  const pending = new Set<Promise<void>>()
  for (let b = 0; b < plan.totalBatches && !state.stopped; b++) {
    const intendedAt = start + (b * plan.batchSize * 1000) / rate
    if (durationMs !== undefined && intendedAt - start >= durationMs) break
    const wait = intendedAt - clock.now()
    if (wait > 0) await clock.sleep(wait, state.stopSignal)
    while (pending.size >= cap && !state.stopped) await Promise.race(pending)
    if (state.stopped) break
    // --duration bounds real time: a target too slow for the rate does not stretch the run; the
    // batches it had no time for show as an achieved rate below the target.
    if (durationMs !== undefined && clock.now() >= start + durationMs) break
    const promise: Promise<void> = state.track(() => send(b, intendedAt)).finally(() => pending.delete(promise))
    pending.add(promise)
  }

  await Promise.all(pending)
}
