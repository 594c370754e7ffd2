/**
 * Latency histograms of many intervals, held so that a weighted merge of any
 * of them (a bootstrap resample) yields percentiles cheaply: each interval's
 * HDR histogram is decoded once into its non-empty buckets, over one compact
 * list of the buckets any of them uses. The percentiles follow HDR's own
 * getValueAtPercentile (the highest value equivalent to the bucket holding
 * the rank), so the merge of all intervals with weight 1 gives the same
 * figures as merging the histograms themselves.
 */
import {decodeHistogram} from '../../load/measure/histogram.js'

/** The parts of hdr-histogram-js's JsHistogram used to walk the buckets. */
interface BucketView {
  countsArrayLength: number
  getCountAtIndex(index: number): number
  valueFromIndex(index: number): number
  highestEquivalentValue(value: number): number
}

interface Member {
  positions: Int32Array
  counts: Float64Array
  total: number
}

const ulp = (x: number) => (x > 0 ? 2 ** (Math.floor(Math.log2(x)) - 52) : 0)

/** The rank (1-based count) HDR reads percentile p (0..100) at. */
export function countAtPercentile(p: number, total: number): number {
  const exact = (Math.min(p, 100) / 100) * total
  return Math.max(Math.ceil(exact - ulp(exact)), 1)
}

export class HistogramSet {
  /** From encoded histograms (compressed base64, µs); '' is an empty one. */
  static fromEncoded(encoded: readonly string[]): HistogramSet {
    const raw = encoded.map((text) => {
      if (!text) return new Map<number, number>()
      const histogram = decodeHistogram(text) as unknown as BucketView
      const buckets = new Map<number, number>()
      for (let i = 0; i < histogram.countsArrayLength; i++) {
        const count = histogram.getCountAtIndex(i)
        if (count > 0) buckets.set(histogram.highestEquivalentValue(histogram.valueFromIndex(i)), count)
      }

      return buckets
    })
    const values = [...new Set(raw.flatMap((buckets) => [...buckets.keys()]))].sort((a, b) => a - b)
    const position = new Map(values.map((value, i) => [value, i]))
    const members = raw.map((buckets): Member => {
      const entries = [...buckets.entries()].sort(([a], [b]) => a - b)
      return {
        counts: Float64Array.from(entries.map(([, count]) => count)),
        positions: Int32Array.from(entries.map(([value]) => position.get(value)!)),
        total: entries.reduce((sum, [, count]) => sum + count, 0),
      }
    })
    return new HistogramSet(Float64Array.from(values), members)
  }

  private readonly scratch: Float64Array

  private constructor(
    /** The value (µs) of each bucket in use, ascending. */
    private readonly values: Float64Array,
    private readonly members: Member[],
  ) {
    this.scratch = new Float64Array(values.length)
  }

  get size(): number {
    return this.members.length
  }

  /** Values recorded in member i. */
  countOf(i: number): number {
    return this.members[i].total
  }

  /**
   * Percentiles (0..100, ascending) of the members merged with these weights
   * (each member's counts times its weight), in ms; null when nothing is in them.
   */
  percentiles(weights: ArrayLike<number>, ps: readonly number[]): (number | null)[] {
    const counts = this.scratch
    counts.fill(0)
    let total = 0
    for (let i = 0; i < this.members.length; i++) {
      const w = weights[i]
      if (!w) continue
      const member = this.members[i]
      for (let k = 0; k < member.positions.length; k++) counts[member.positions[k]] += member.counts[k] * w
      total += member.total * w
    }

    if (total === 0) return ps.map(() => null)
    const out: (number | null)[] = []
    let cumulative = 0
    let bucket = -1
    for (const p of ps) {
      const rank = countAtPercentile(p, total)
      while (cumulative < rank && bucket < counts.length - 1) cumulative += counts[++bucket]
      out.push(Math.round(this.values[bucket]) / 1000)
    }

    return out
  }

  /** Percentiles of member i alone, in ms. */
  percentilesOf(i: number, ps: readonly number[]): (number | null)[] {
    const weights = new Float64Array(this.members.length)
    weights[i] = 1
    return this.percentiles(weights, ps)
  }
}
