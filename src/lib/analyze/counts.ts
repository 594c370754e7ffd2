import type {Level} from '../store/index.js'
import type {AppsReport, LevelsReport, RunsReport, TotalReport} from './types.js'

import {isoTime} from '../format/units.js'
import {limitPlusOne, type ReportContext} from './context.js'
import {filterTimeRole} from './filters.js'

/** The guide's "Total Logs Ingested", with the time range and the distinct apps and runs. */
export async function totalReport(ctx: ReportContext): Promise<TotalReport> {
  const {profile} = ctx
  const time = filterTimeRole(profile)
  // What the table lacks is left out (null), not failed: the count works on any table.
  const columns = ['count() AS logs']
  if (time) columns.push(`${profile.timeMs(time, 'min')} AS first_ms`, `${profile.timeMs(time, 'max')} AS last_ms`)
  if (profile.has('app')) columns.push(`uniqExact(${profile.expr('app')}) AS app_count`)
  if (profile.has('run_id')) columns.push(`uniqExact(${profile.expr('run_id')}) AS run_count`)
  const [row] = await ctx.query<{logs: number; first_ms?: number; last_ms?: number; app_count?: number; run_count?: number}>(
    `SELECT ${columns.join(', ')} FROM ${ctx.store.tableRef} ${ctx.where.sql}`,
  )
  const empty = row.logs === 0 || !time
  return {
    apps: row.app_count ?? null,
    firstCreatedAt: empty ? null : isoTime(row.first_ms!),
    lastCreatedAt: empty ? null : isoTime(row.last_ms!),
    logs: row.logs,
    runs: row.run_count ?? null,
  }
}

async function countAll(ctx: ReportContext): Promise<number> {
  const [row] = await ctx.query<{logs: number}>(`SELECT count() AS logs FROM ${ctx.store.tableRef} ${ctx.where.sql}`)
  return row.logs
}

/** The guide's "Logs per Application", with each app's share. */
export async function appsReport(ctx: ReportContext): Promise<AppsReport> {
  const rows = await ctx.query<{app_name: string; logs: number}>(
    `SELECT ${ctx.profile.expr('app')} AS app_name, count() AS logs FROM ${ctx.store.tableRef} ${ctx.where.sql}
     GROUP BY app_name ORDER BY logs DESC, app_name ${limitPlusOne(ctx.options.limit)}`,
  )
  const truncated = rows.length > ctx.options.limit
  const shown = rows.slice(0, ctx.options.limit)
  const total = truncated ? await countAll(ctx) : shown.reduce((sum, row) => sum + row.logs, 0)
  return {
    rows: shown.map((row) => ({app: row.app_name, logs: row.logs, share: total > 0 ? row.logs / total : 0})),
    total,
    truncated,
  }
}

/** The guide's "Logs per Level", with each level's share. */
export async function levelsReport(ctx: ReportContext): Promise<LevelsReport> {
  const rows = await ctx.query<{level: Level; logs: number}>(
    `SELECT toString(${ctx.profile.expr('level')}) AS lvl, count() AS logs FROM ${ctx.store.tableRef} ${ctx.where.sql} GROUP BY lvl ORDER BY logs DESC, lvl`,
  ).then((found) => found.map((row) => ({level: (row as unknown as {lvl: Level}).lvl, logs: row.logs})))
  const total = rows.reduce((sum, row) => sum + row.logs, 0)
  return {rows: rows.map((row) => ({level: row.level, logs: row.logs, share: total > 0 ? row.logs / total : 0})), total}
}

/** One row per run id, newest first: how many logs it stored, over which period, at what mean rate. */
export async function runsReport(ctx: ReportContext): Promise<RunsReport> {
  const {profile} = ctx
  const time = filterTimeRole(profile)!
  const resolution = profile.resolutionMs(time)
  const rows = await ctx.query<{run_id: string; logs: number; first_ms: number; last_ms: number}>(
    `SELECT ${profile.expr('run_id')} AS rid, count() AS logs, ${profile.timeMs(time, 'min')} AS first_ms, ${profile.timeMs(time, 'max')} AS last_ms
     FROM ${ctx.store.tableRef} ${ctx.where.sql}
     GROUP BY rid ORDER BY first_ms DESC, rid ${limitPlusOne(ctx.options.limit)}`,
  ).then((found) => found.map((row) => ({...row, run_id: (row as unknown as {rid: string}).rid})))
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
