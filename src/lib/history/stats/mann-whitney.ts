/**
 * The Mann–Whitney U test (Wilcoxon rank-sum), two-sided, as benchstat uses
 * it to say whether two sets of measurements differ: no assumption about the
 * shape of the distribution, only that one set tends to be larger.
 *
 * Without ties and for small samples (n·m ≤ 2,500) the p-value is exact: the
 * distribution of U is counted over every arrangement of the ranks (the
 * coefficients of the Gaussian binomial [n+m choose n]_q, in BigInt). Otherwise
 * it is the normal approximation with the tie correction of the variance and a
 * continuity correction. A variance inflation (≥ 1) widens the approximation
 * for autocorrelated samples; the exact count assumes independent samples, so
 * an inflated test always takes the approximation.
 */

export interface MannWhitneyResult {
  /** U of the first sample: pairs (x, y) with x > y, ties counting one half. */
  u: number
  pValue: number
  method: 'exact' | 'normal'
}

const EXACT_LIMIT = 2500

/** Ranks 1..N of the pooled values, ties given their mean rank; and Σ(t³ − t) over tie groups. */
function ranks(pooled: readonly number[]): {ranks: Float64Array; tieTerm: number} {
  const order = pooled.map((_, i) => i).sort((a, b) => pooled[a] - pooled[b])
  const result = new Float64Array(pooled.length)
  let tieTerm = 0
  for (let start = 0; start < order.length; ) {
    let end = start + 1
    while (end < order.length && pooled[order[end]] === pooled[order[start]]) end++
    const rank = (start + 1 + end) / 2
    for (let k = start; k < end; k++) result[order[k]] = rank
    const t = end - start
    tieTerm += t * t * t - t
    start = end
  }

  return {ranks: result, tieTerm}
}

/** How many arrangements of n x's and m y's give each U = 0..n·m. */
export function exactUCounts(n: number, m: number): bigint[] {
  const size = n * m + 1
  let coefficients: bigint[] = Array.from({length: size}, (_, i) => (i === 0 ? 1n : 0n))
  // Π_{k=1..n} (1 − q^(m+k)) / (1 − q^k): after step k the product is [m+k choose k]_q, a polynomial.
  for (let k = 1; k <= n; k++) {
    const times = coefficients.slice()
    for (let t = size - 1; t >= m + k; t--) times[t] -= coefficients[t - (m + k)]
    const divided = times
    for (let t = k; t < size; t++) divided[t] += divided[t - k]
    coefficients = divided
  }

  return coefficients
}

function exactPValue(u: number, n: number, m: number): number {
  const counts = exactUCounts(n, m)
  const total = counts.reduce((sum, c) => sum + c, 0n)
  // U is symmetric about n·m/2: twice the smaller tail.
  const tail = Math.min(u, n * m - u)
  let below = 0n
  for (let t = 0; t <= Math.floor(tail); t++) below += counts[t]
  return Math.min(1, (2 * Number(below)) / Number(total))
}

/** 1 − Φ(z) for the standard normal, via erfc (Numerical Recipes' erfcc, fractional error < 1.2e-7). */
export function normalUpperTail(z: number): number {
  const x = z / Math.SQRT2
  const t = 1 / (1 + 0.5 * Math.abs(x))
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.265_512_23 +
        t * (1.000_023_68 + t * (0.374_091_96 + t * (0.096_784_18 + t * (-0.186_288_06 + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))),
    )
  return (x >= 0 ? erfc : 2 - erfc) / 2
}

export function mannWhitneyU(x: readonly number[], y: readonly number[], options: {varianceInflation?: number} = {}): MannWhitneyResult {
  const n = x.length
  const m = y.length
  if (n === 0 || m === 0) throw new RangeError('the Mann–Whitney test needs two non-empty samples')
  const {ranks: r, tieTerm} = ranks([...x, ...y])
  let rankSum = 0
  for (let i = 0; i < n; i++) rankSum += r[i]
  const u = rankSum - (n * (n + 1)) / 2
  const inflation = Math.max(1, options.varianceInflation ?? 1)
  if (tieTerm === 0 && n * m <= EXACT_LIMIT && inflation === 1) return {method: 'exact', pValue: exactPValue(u, n, m), u}
  const total = n + m
  const variance = ((n * m) / 12) * (total + 1 - tieTerm / (total * (total - 1))) * inflation
  // Every value tied: nothing tells the samples apart.
  if (!(variance > 0)) return {method: 'normal', pValue: 1, u}
  const z = Math.max(0, Math.abs(u - (n * m) / 2) - 0.5) / Math.sqrt(variance)
  return {method: 'normal', pValue: Math.min(1, 2 * normalUpperTail(z)), u}
}
