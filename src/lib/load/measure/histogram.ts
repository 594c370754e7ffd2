/**
 * Measurements of a run: an HDR latency histogram (microsecond resolution,
 * 3 significant digits) and counters of errors by class. Histograms travel
 * between processes encoded (compressed base64) and are merged, never averaged.
 */
import * as hdr from 'hdr-histogram-js'


export type Histogram = hdr.Histogram

/** One hour in microseconds: the largest latency tracked exactly (longer values still count, clamped). */
const HIGHEST_US = 3_600_000_000

export function newHistogram(): Histogram {
  return hdr.build({
    autoResize: true,
    bitBucketSize: 64,
    highestTrackableValue: HIGHEST_US,
    lowestDiscernibleValue: 1,
    numberOfSignificantValueDigits: 3,
  })
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram)
}

export function decodeHistogram(encoded: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(encoded, 64)
  // Re-home the counts in a histogram of the standard shape so any two can be added.
  const histogram = newHistogram()
  histogram.add(decoded)
  return histogram
}

/** Merge histograms by adding their counts: the only correct way to combine percentiles. */
export function mergeHistograms(histograms: Iterable<Histogram>): Histogram {
  const merged = newHistogram()
  for (const histogram of histograms) merged.add(histogram)
  return merged
}

export interface LatencySummary {
  /** Number of recorded values (acknowledged batches). */
  count: number
  minMs: number
  meanMs: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
}

const ms = (us: number) => Math.round(us) / 1000

export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return {count: 0, maxMs: 0, meanMs: 0, minMs: 0, p50Ms: 0, p90Ms: 0, p999Ms: 0, p99Ms: 0}
  return {
    count: histogram.totalCount,
    maxMs: ms(histogram.getValueAtPercentile(100)),
    meanMs: ms(histogram.mean),
    minMs: ms(histogram.getValueAtPercentile(0)),
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p90Ms: ms(histogram.getValueAtPercentile(90)),
    p999Ms: ms(histogram.getValueAtPercentile(99.9)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
  }
}

/** Record a latency given in milliseconds (fractions allowed). */
export function recordMs(histogram: Histogram, latencyMs: number): void {
  const us = Math.max(1, Math.min(HIGHEST_US, Math.round(latencyMs * 1000)))
  histogram.recordValue(us)
}

/** Counts by class, in a plain object for JSON. */
export class ClassCounter {
  private readonly counts = new Map<string, number>()

  add(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n)
  }

  get total(): number {
    let sum = 0
    for (const n of this.counts.values()) sum += n
    return sum
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)))
  }

  static sum(records: Iterable<Record<string, number>>): Record<string, number> {
    const counter = new ClassCounter()
    for (const record of records) for (const [name, n] of Object.entries(record)) counter.add(name, n)
    return counter.toJSON()
  }
}
