import type {LagReport} from './types.js'

import {type ReportContext} from './context.js'

/**
 * Ingest delay: the ingest time (when the row was stored) minus the event time
 * (when the client made the log). Exact quantiles (quantilesExact: the value at
 * index floor(level × n) of the sorted delays); negative delays mean the
 * client's clock is ahead and are counted apart. On ClickHouse versions whose
 * times have one-second resolution, so do the delays.
 */
export async function lagReport(ctx: ReportContext): Promise<LagReport> {
  const {profile} = ctx
  const [row] = await ctx.query<{logs: number; min_ms: number; max_ms: number; mean_ms: number | null; q: number[]; negative: number}>(
    `SELECT count() AS logs, min(lag_ms) AS min_ms, max(lag_ms) AS max_ms, avg(lag_ms) AS mean_ms,
            quantilesExact(0.5, 0.9, 0.99)(lag_ms) AS q, countIf(lag_ms < 0) AS negative
     FROM (
       SELECT toInt64(${profile.timeMs('ingest_time')}) - toInt64(${profile.timeMs('event_time')}) AS lag_ms
       FROM ${ctx.store.tableRef} ${ctx.where.sql}
     )`,
  )
  const resolutionMs = Math.max(profile.resolutionMs('ingest_time'), profile.resolutionMs('event_time'))
  if (row.logs === 0) {
    return {logs: 0, maxMs: null, meanMs: null, minMs: null, negative: 0, p50Ms: null, p90Ms: null, p99Ms: null, resolutionMs}
  }

  return {
    logs: row.logs,
    maxMs: row.max_ms,
    meanMs: row.mean_ms,
    minMs: row.min_ms,
    negative: row.negative,
    p50Ms: Number(row.q[0]),
    p90Ms: Number(row.q[1]),
    p99Ms: Number(row.q[2]),
    resolutionMs,
  }
}
