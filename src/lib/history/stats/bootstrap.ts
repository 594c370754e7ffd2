/**
 * The bootstrap over intervals (or runs): each resample draws as many of them
 * as there are, with replacement, and recomputes the statistic from the drawn
 * ones. Consecutive intervals of a load test are correlated, so intervals are
 * drawn in circular blocks of consecutive ones (a moving-block bootstrap); a
 * block length of one is the ordinary bootstrap. A resample is described by
 * weights: how many times each item was drawn, so a statistic is a weighted
 * sum (counts, histograms) rather than a copy of the data.
 */
import {quantileSorted} from './describe.js'
import {type Random, randomIndex} from './random.js'

/** The number of resamples `compare` draws. */
export const DEFAULT_REPLICATES = 2000

/** One resample of n items in circular blocks of `blockLength`: the times each item was drawn, into `weights`. */
export function drawWeights(weights: Float64Array, random: Random, blockLength = 1): Float64Array {
  const n = weights.length
  weights.fill(0)
  if (n === 0) return weights
  const block = Math.max(1, Math.min(n, Math.round(blockLength)))
  for (let drawn = 0; drawn < n; ) {
    const start = randomIndex(random, n)
    for (let k = 0; k < block && drawn < n; k++, drawn++) weights[(start + k) % n]++
  }

  return weights
}

/** The block length for n items worth `effective` independent ones: about n / effective, at most n/2. */
export function blockLengthFor(n: number, effective: number): number {
  if (n < 4 || !(effective > 0) || effective >= n) return 1
  return Math.max(1, Math.min(Math.floor(n / 2), Math.round(n / effective)))
}

export interface BootstrapSide {
  /** Items (intervals or runs) on this side. */
  n: number
  blockLength: number
  /**
   * The statistics of the items drawn with these weights (several at once, so
   * they share their resamples); null where one cannot be computed.
   */
  statistics(weights: Float64Array): (number | null)[]
}

/**
 * Resampled changes in percent, (contender / base − 1)·100, for each
 * statistic; each side is drawn on its own. Resamples where the base statistic
 * is 0 or missing are left out of that statistic's list.
 */
export function bootstrapChanges(base: BootstrapSide, contender: BootstrapSide, options: {random: Random; replicates?: number}): number[][] {
  const replicates = options.replicates ?? DEFAULT_REPLICATES
  const baseWeights = new Float64Array(base.n)
  const contenderWeights = new Float64Array(contender.n)
  const changes: number[][] = []
  for (let r = 0; r < replicates; r++) {
    const b = base.statistics(drawWeights(baseWeights, options.random, base.blockLength))
    const c = contender.statistics(drawWeights(contenderWeights, options.random, contender.blockLength))
    for (let k = 0; k < b.length; k++) {
      changes[k] ??= []
      const bk = b[k]
      const ck = c[k]
      if (bk === null || ck === null || bk === 0 || !Number.isFinite(bk) || !Number.isFinite(ck)) continue
      changes[k].push((ck / bk - 1) * 100)
    }
  }

  return changes
}

/** The percentile interval of resampled values at a confidence level (0.95: the 2.5th and 97.5th percentiles). */
export function percentileInterval(values: readonly number[], level = 0.95): [number, number] | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const tail = (1 - level) / 2
  return [quantileSorted(sorted, tail), quantileSorted(sorted, 1 - tail)]
}

/**
 * The two-sided p-value of "no change" read off the resampled changes: twice
 * the share on the far side of zero, with the usual +1 so it is never 0 (the
 * smallest is about 2/(resamples + 1)). It agrees with the percentile interval:
 * p < 0.05 about when the 95% interval leaves out 0.
 */
export function bootstrapPValue(changes: readonly number[]): number | null {
  if (changes.length === 0) return null
  let atOrBelow = 0
  let atOrAbove = 0
  for (const change of changes) {
    if (change <= 0) atOrBelow++
    if (change >= 0) atOrAbove++
  }

  const total = changes.length + 1
  return Math.min(1, 2 * Math.min((atOrBelow + 1) / total, (atOrAbove + 1) / total))
}
