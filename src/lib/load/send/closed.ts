/**
 * The closed model: `lanes` batches in flight; a lane sends its next batch
 * when the previous one is answered, until the logs are sent or the time is up.
 */
import type {SendState} from './state.js'

export interface ClosedPlan {
  lanes: number
  /** Batches to send (Infinity for a time-bound run). */
  totalBatches: number
  /** Stop starting batches this long after the start, ms (time-bound runs). */
  durationMs?: number
}

export async function runClosed(state: SendState, plan: ClosedPlan, send: (b: number) => Promise<void>): Promise<void> {
  const {clock} = state
  let next = 0
  const lane = async () => {
    while (!state.stopped) {
      if (next >= plan.totalBatches) return
      if (plan.durationMs !== undefined && clock.now() - state.start >= plan.durationMs) return
      const b = next++
      await state.track(() => send(b))
    }
  }

  await Promise.all(Array.from({length: Math.max(1, plan.lanes)}, () => lane()))
}
