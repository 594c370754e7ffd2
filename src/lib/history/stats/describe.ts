/**
 * Descriptive statistics of small samples: quantiles, spread, and how many
 * independent observations an autocorrelated series is worth.
 */

/** The q-quantile (0..1) of sorted values, linear between order statistics (R's type 7). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  if (sorted.length === 1) return sorted[0]
  const h = (sorted.length - 1) * Math.min(1, Math.max(0, q))
  const low = Math.floor(h)
  const high = Math.min(sorted.length - 1, low + 1)
  return sorted[low] + (h - low) * (sorted[high] - sorted[low])
}

export const sortedCopy = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b)

export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(sortedCopy(values), q)
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/**
 * The spread of values relative to their middle, in percent: half the
 * interquartile range over the median, the ± around the median within which
 * the middle half of the values lie. Robust to the odd outlier (one slow
 * interval does not make a run noisy), and in the unit of a change, so it
 * compares with the practical threshold directly: values within ±3% of their
 * median have a spread of about 3%. Null when it means nothing (fewer than two
 * values, or a median of zero).
 */
export function relativeSpreadPercent(values: readonly number[]): number | null {
  if (values.length < 2) return null
  const sorted = sortedCopy(values)
  const middle = quantileSorted(sorted, 0.5)
  if (!(Math.abs(middle) > 0)) return null
  return ((quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) / 2 / Math.abs(middle)) * 100
}

/** Lag-1 autocorrelation of a series (0 for fewer than three values or no variance). */
export function lag1Autocorrelation(values: readonly number[]): number {
  const n = values.length
  if (n < 3) return 0
  const m = mean(values)
  let numerator = 0
  let denominator = 0
  for (let i = 0; i < n; i++) {
    const d = values[i] - m
    denominator += d * d
    if (i > 0) numerator += d * (values[i - 1] - m)
  }

  return denominator > 0 ? numerator / denominator : 0
}

/**
 * How many independent observations a series of n autocorrelated values is
 * worth, from its lag-1 autocorrelation ρ as for an AR(1) process:
 * n·(1 − ρ)/(1 + ρ). Consecutive intervals of a load test are not independent
 * (a queue that builds up spans several), so n intervals are worth fewer than n
 * samples. A negative ρ is taken as 0 (never more than n), and ρ is capped at
 * 0.9 so a short series cannot claim to be worth almost nothing.
 */
export function effectiveSampleSize(values: readonly number[]): number {
  const n = values.length
  if (n < 3) return n
  const rho = Math.min(0.9, Math.max(0, lag1Autocorrelation(values)))
  return (n * (1 - rho)) / (1 + rho)
}
