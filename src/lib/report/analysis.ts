/**
 * The short analysis printed after a zero set-up run: the guide's first three
 * queries (total, per app, per level), for this run's rows.
 */
import type {Store} from '../store/index.js'

import {fields, int, percent, table} from './format.js'

export interface Analysis {
  runId: string
  /** Rows of this run. */
  total: number
  /** Rows in the whole table. */
  tableTotal: number
  apps: {app: string; count: number}[]
  levels: {level: string; count: number}[]
}

export async function quickAnalysis(store: Store, runId: string): Promise<Analysis> {
  const t = store.tableRef
  // One after the other: the embedded engine runs one query at a time anyway.
  const [total] = await store.query<{n: number}>(`SELECT count() AS n FROM ${t} WHERE run_id = {runId:String}`, {runId})
  const [tableTotal] = await store.query<{n: number}>(`SELECT count() AS n FROM ${t}`)
  const apps = await store.query<{app: string; count: number}>(
    `SELECT app_id AS app, count() AS count FROM ${t} WHERE run_id = {runId:String} GROUP BY app_id ORDER BY count DESC, app`,
    {runId},
  )
  const levels = await store.query<{level: string; count: number}>(
    `SELECT toString(level) AS level, count() AS count FROM ${t} WHERE run_id = {runId:String} GROUP BY level ORDER BY count DESC, level`,
    {runId},
  )
  return {
    apps: apps.map((row) => ({app: row.app, count: Number(row.count)})),
    levels: levels.map((row) => ({count: Number(row.count), level: row.level})),
    runId,
    tableTotal: Number(tableTotal.n),
    total: Number(total.n),
  }
}

export function renderAnalysis(analysis: Analysis): string {
  return [
    fields([
      ['logs of this run', int(analysis.total)],
      ['logs in the table', int(analysis.tableTotal)],
    ]),
    table(
      ['app', 'logs', 'share'],
      analysis.apps.map((row) => [row.app, int(row.count), percent(row.count, analysis.total)]),
    ),
    table(
      ['level', 'logs', 'share'],
      analysis.levels.map((row) => [row.level, int(row.count), percent(row.count, analysis.total)]),
    ),
  ].join('\n')
}
