import type {Level} from '../store/index.js'
import type {AppsReport, LevelsReport, RunsReport, TotalReport} from './types.js'

import {isoTime} from '../format/units.js'
import {limitPlusOne, type ReportContext} from './context.js'
import {createdMs, timeResolutionMs} from './filters.js'

/** The guide's "Total Logs Ingested", with the time range and the distinct apps and runs. */
export async function totalReport(ctx: ReportContext): Promise<TotalReport> {
  const caps = ctx.store.info.capabilities
  const [row] = await ctx.query<{logs: number; first_ms: number; last_ms: number; app_count: number; run_count: number}>(
    `SELECT count() AS logs, ${createdMs(caps, 'min(created_at)')} AS first_ms, ${createdMs(caps, 'max(created_at)')} AS last_ms,
            uniqExact(app_id) AS app_count, uniqExact(run_id) AS run_count
     FROM ${ctx.store.tableRef} ${ctx.where.sql}`,
  )
  const empty = row.logs === 0
  return {
    apps: row.app_count,
    firstCreatedAt: empty ? null : isoTime(row.first_ms),
    lastCreatedAt: empty ? null : isoTime(row.last_ms),
    logs: row.logs,
    runs: row.run_count,
  }
}

async function countAll(ctx: ReportContext): Promise<number> {
  const [row] = await ctx.query<{logs: number}>(`SELECT count() AS logs FROM ${ctx.store.tableRef} ${ctx.where.sql}`)
  return row.logs
}

/** The guide's "Logs per Application", with each app's share. */
export async function appsReport(ctx: ReportContext): Promise<AppsReport> {
  const rows = await ctx.query<{app_id: string; logs: number}>(
    `SELECT app_id, count() AS logs FROM ${ctx.store.tableRef} ${ctx.where.sql}
     GROUP BY app_id ORDER BY logs DESC, app_id ${limitPlusOne(ctx.options.limit)}`,
  )
  const truncated = rows.length > ctx.options.limit
  const shown = rows.slice(0, ctx.options.limit)
  const total = truncated ? await countAll(ctx) : shown.reduce((sum, row) => sum + row.logs, 0)
  return {
    rows: shown.map((row) => ({app: row.app_id, logs: row.logs, share: total > 0 ? row.logs / total : 0})),
    total,
    truncated,
  }
}

/** The guide's "Logs per Level", with each level's share. */
export async function levelsReport(ctx: ReportContext): Promise<LevelsReport> {
  const rows = await ctx.query<{level: Level; logs: number}>(
    `SELECT level, count() AS logs FROM ${ctx.store.tableRef} ${ctx.where.sql} GROUP BY level ORDER BY logs DESC, level`,
  )
  const total = rows.reduce((sum, row) => sum + row.logs, 0)
  return {rows: rows.map((row) => ({level: row.level, logs: row.logs, share: total > 0 ? row.logs / total : 0})), total}
}

/** One row per run id, newest first: how many logs it stored, over which period, at what mean rate. */
export async function runsReport(ctx: ReportContext): Promise<RunsReport> {
  const caps = ctx.store.info.capabilities
  const resolution = timeResolutionMs(caps)
  const rows = await ctx.query<{run_id: string; logs: number; first_ms: number; last_ms: number}>(
    `SELECT run_id, count() AS logs, ${createdMs(caps, 'min(created_at)')} AS first_ms, ${createdMs(caps, 'max(created_at)')} AS last_ms
     FROM ${ctx.store.tableRef} ${ctx.where.sql}
     GROUP BY run_id ORDER BY first_ms DESC, run_id ${limitPlusOne(ctx.options.limit)}`,
  )
  return {
    rows: rows.slice(0, ctx.options.limit).map((row) => {
      const durationMs = row.last_ms - row.first_ms + resolution
      return {
        durationMs,
        firstCreatedAt: isoTime(row.first_ms)!,
        lastCreatedAt: isoTime(row.last_ms)!,
        logs: row.logs,
        logsPerSecond: row.logs / (durationMs / 1000),
        runId: row.run_id,
      }
    }),
    truncated: rows.length > ctx.options.limit,
  }
}
