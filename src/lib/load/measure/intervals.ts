/**
 * Wall-clock intervals, shared by everything measured over time (the
 * timeline, a process's resources, a serve's /metrics, ClickHouse's view):
 * a timer just after every interval boundary, and a series kept bounded by
 * doubling its interval.
 */

/** Intervals (or samples) kept at most; a longer run doubles its interval until it fits. */
export const MAX_INTERVALS = 600

/**
 * Call `tick(boundary)` just after every multiple of `intervalMs` since the epoch, `boundary`
 * being the one just passed, until stopped. The timer never keeps the process alive.
 */
export function onIntervalBoundaries(intervalMs: number, tick: (boundary: number) => void, now: () => number = Date.now): {stop(): void} {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const schedule = () => {
    const at = now()
    const next = (Math.floor(at / intervalMs) + 1) * intervalMs
    timer = setTimeout(() => {
      if (stopped) return
      tick(next)
      schedule()
    }, next - at + 1)
    timer.unref?.()
  }

  schedule()
  return {
    stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}

/** The interval (intervalMs doubled as often as needed) at which [firstAt, lastAt] spans at most `max` intervals. */
export function widenedInterval(firstAt: number, lastAt: number, intervalMs: number, max = MAX_INTERVALS): number {
  let width = intervalMs
  while (Math.floor(lastAt / width) - Math.floor(firstAt / width) + 1 > max) width *= 2
  return width
}

/**
 * Samples in time order at `intervalMs`, kept to at most `max` intervals: past that the
 * interval doubles and the samples of each wider interval are folded into its first with
 * `add`. Unchanged (the same array) when they already fit.
 */
export function coarsenSamples<T extends {at: number}>(samples: T[], intervalMs: number, add: (into: T, sample: T) => void, max = MAX_INTERVALS): {intervalMs: number; samples: T[]} {
  if (samples.length === 0) return {intervalMs, samples}
  const width = widenedInterval(samples[0].at, samples.at(-1)!.at, intervalMs, max)
  if (width === intervalMs) return {intervalMs, samples}
  const byAt = new Map<number, T>()
  for (const sample of samples) {
    const at = Math.floor(sample.at / width) * width
    const into = byAt.get(at)
    if (into) add(into, sample)
    else byAt.set(at, {...sample, at})
  }

  return {intervalMs: width, samples: [...byAt.values()].sort((a, b) => a.at - b.at)}
}
