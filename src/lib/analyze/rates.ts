import type {RateBucket, RatesReport} from './types.js'

import {usageError} from '../errors.js'
import {formatInterval, isoTime} from '../format/units.js'
import {describeBinding} from '../store/index.js'
import {type ReportContext} from './context.js'
import {filterTimeRole} from './filters.js'

/** Bucket widths the automatic choice picks from. */
export const BUCKET_LADDER_MS = [
  1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000,
  21_600_000, 43_200_000, 86_400_000, 604_800_000,
]

/** The automatic bucket keeps the chart within this many buckets (one terminal column each). */
export const TARGET_BUCKETS = 60
/** An explicit --bucket may not make more buckets than this. */
export const MAX_BUCKETS = 10_000

/** The smallest ladder width that covers the span in at most TARGET_BUCKETS buckets: 1 s for runs up to a minute. */
export function chooseBucketMs(firstMs: number, lastMs: number): number {
  for (const width of BUCKET_LADDER_MS) {
    if (bucketCount(firstMs, lastMs, width) <= TARGET_BUCKETS) return width
  }

  return BUCKET_LADDER_MS.at(-1)!
}

/** Buckets from the one holding firstMs to the one holding lastMs, inclusive. */
export function bucketCount(firstMs: number, lastMs: number, bucketMs: number): number {
  return Math.floor(lastMs / bucketMs) - Math.floor(firstMs / bucketMs) + 1
}

export interface BucketRow {
  bucket_ms: number
  logs: number
  first_ms: number
  last_ms: number
}

/**
 * Per-bucket counts from ClickHouse -> the report: empty buckets filled in
 * (a stall is a result too), each bucket's real rate (logs / seconds of the
 * bucket the data covers, not a per-minute count divided by 60), the mean over
 * the active period (the non-empty buckets) and the peak bucket.
 */
export function summarizeRates(rows: readonly BucketRow[], bucketMs: number, resolutionMs: number, bucketSource: 'auto' | 'flag'): RatesReport {
  const base = {bucketMs, bucketSource, resolutionMs}
  const logs = rows.reduce((sum, row) => sum + row.logs, 0)
  if (rows.length === 0 || logs === 0) {
    return {...base, activeMs: 0, buckets: [], firstCreatedAt: null, lastCreatedAt: null, logs: 0, meanPerSecond: null, peakAt: null, peakPerSecond: null}
  }

  const first = Math.min(...rows.map((row) => row.first_ms))
  const last = Math.max(...rows.map((row) => row.last_ms))
  const end = last + resolutionMs
  const byStart = new Map(rows.map((row) => [row.bucket_ms, row.logs]))
  const firstBucket = Math.floor(first / bucketMs) * bucketMs
  const buckets: RateBucket[] = []
  let peak = -1
  let peakAt = firstBucket
  // The first and last buckets are measured over the part the data covers, and the active period
  // is the union of non-empty buckets: a run that fills part of one bucket, or idle time between
  // runs, can then neither pull the peak below the mean nor dilute the mean.
  let activeMs = 0
  for (let start = firstBucket; start <= last; start += bucketMs) {
    const count = byStart.get(start) ?? 0
    const coveredMs = Math.max(resolutionMs, Math.min(start + bucketMs, end) - Math.max(start, first))
    const rate = count / (coveredMs / 1000)
    if (count > 0) activeMs += coveredMs
    if (rate > peak) {
      peak = rate
      peakAt = start
    }

    buckets.push({logs: count, logsPerSecond: rate, partial: start < first || start + bucketMs > end, start: isoTime(start)!})
  }

  return {
    ...base,
    activeMs,
    buckets,
    firstCreatedAt: isoTime(first),
    lastCreatedAt: isoTime(last),
    logs,
    meanPerSecond: logs / (activeMs / 1000),
    peakAt: isoTime(peakAt),
    peakPerSecond: peak,
  }
}

/**
 * The guide's "Ingestion Rate Over Time", fixed: buckets of a chosen width
 * (1 s by default for short runs) and each bucket's own per-second rate, so a
 * burst inside a minute shows as a burst.
 */
export async function ratesReport(ctx: ReportContext): Promise<RatesReport> {
  const {profile} = ctx
  const time = filterTimeRole(profile)!
  const resolutionMs = profile.resolutionMs(time)
  const [span] = await ctx.query<{logs: number; first_ms: number; last_ms: number}>(
    `SELECT count() AS logs, ${profile.timeMs(time, 'min')} AS first_ms, ${profile.timeMs(time, 'max')} AS last_ms
     FROM ${ctx.store.tableRef} ${ctx.where.sql}`,
  )
  const source = ctx.options.bucketMs === undefined ? 'auto' : 'flag'
  let bucketMs = ctx.options.bucketMs ?? (span.logs > 0 ? chooseBucketMs(span.first_ms, span.last_ms) : 1000)
  if (bucketMs % resolutionMs !== 0) {
    throw usageError(
      `--bucket ${formatInterval(bucketMs)} is finer than the table's time resolution (${formatInterval(resolutionMs)})`,
      `${describeBinding(profile.profile.bindings[time])} is stored to the ${resolutionMs === 1000 ? 'second' : 'millisecond'}: use a multiple of ${formatInterval(resolutionMs)}`,
    )
  }

  if (span.logs === 0) return summarizeRates([], bucketMs, resolutionMs, source)
  const count = bucketCount(span.first_ms, span.last_ms, bucketMs)
  if (count > MAX_BUCKETS) {
    const fitting = BUCKET_LADDER_MS.find((width) => bucketCount(span.first_ms, span.last_ms, width) <= MAX_BUCKETS)
    throw usageError(
      `--bucket ${formatInterval(bucketMs)} would make ${count} buckets over this data (at most ${MAX_BUCKETS})`,
      fitting ? `use --bucket ${formatInterval(fitting)} or larger, or narrow the range with --since` : 'narrow the range with --since',
    )
  }

  bucketMs = Math.round(bucketMs)
  const ms = profile.timeMs(time)
  const rows = await ctx.query<BucketRow>(
    `SELECT intDiv(${ms}, {r_bucket:UInt64}) * {r_bucket:UInt64} AS bucket_ms, count() AS logs, min(${ms}) AS first_ms, max(${ms}) AS last_ms
     FROM ${ctx.store.tableRef} ${ctx.where.sql}
     GROUP BY bucket_ms ORDER BY bucket_ms`,
    {r_bucket: bucketMs},
  )
  return summarizeRates(rows, bucketMs, resolutionMs, source)
}
