import {setTimeout as sleep} from 'node:timers/promises'

/**
 * The guide's `watch -n 1 …` loop: run `tick`, wait `intervalMs`, again, until
 * the signal aborts (Ctrl+C). A tick that is interrupted by the signal ends the
 * loop quietly; any other error ends it with that error. Resolves with the
 * number of completed ticks.
 */
export async function repeatUntilAborted(intervalMs: number, signal: AbortSignal, tick: (iteration: number) => Promise<void>): Promise<number> {
  let done = 0
  while (!signal.aborted) {
    try {
      await tick(done)
    } catch (error) {
      if (signal.aborted) break
      throw error
    }

    done++
    try {
      await sleep(intervalMs, undefined, {signal})
    } catch {
      break
    }
  }

  return done
}
