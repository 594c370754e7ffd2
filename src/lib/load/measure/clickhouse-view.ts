/**
 * ClickHouse's own view of a run: one cheap query per interval, valid from
 * 18.16 to current versions and on the embedded engine, reading
 * system.events (rows inserted, delayed and rejected inserts, query CPU),
 * system.metrics (memory tracked, inserts being delayed), system.parts
 * (active parts of the target table, the most in one partition) and
 * system.merges. The limits on parts come from the table's own SETTINGS when
 * it has them, system.merge_tree_settings otherwise. After the run, the rows
 * stored per interval come from the table itself.
 */
import type {Store} from '../../store/index.js'

import {quoteString} from '../../store/index.js'
import {coarsenSamples, MAX_INTERVALS, onIntervalBoundaries} from './intervals.js'

export interface ClickHouseSample {
  /** Start of the interval, epoch ms. */
  at: number
  /** Rows inserted into any table of the server in the interval (system.events InsertedRows). */
  insertedRows: number
  /** Active parts of the target table in its fullest partition, at the end of the interval. */
  maxPartsPerPartition: number
  /** Active parts of the target table, all partitions. */
  activeParts: number
  /** Merges running at the end of the interval. */
  merges: number
  /** Memory tracked by the server (system.metrics MemoryTracking), bytes. */
  memoryBytes: number
  /** INSERTs delayed for too many parts in the interval (system.events DelayedInserts). */
  delayedInserts: number
  /** INSERTs refused for too many parts in the interval (system.events RejectedInserts). */
  rejectedInserts: number
  /** CPU time of queries in the interval (system.events UserTimeMicroseconds + SystemTimeMicroseconds), ms. */
  queryCpuMs: number
}

export interface PartsLimits {
  partsToDelayInsert: number | null
  partsToThrowInsert: number | null
  /** Where the limits were read: the table's SETTINGS or the server's defaults. */
  source: 'table' | 'server' | 'unknown'
}

export interface StoredInterval {
  at: number
  rows: number
}

export interface ClickHouseView {
  /** `database.table` watched. */
  table: string
  intervalMs: number
  limits: PartsLimits
  samples: ClickHouseSample[]
  /** Rows of the run stored per interval, by ingest time (whole seconds at least). */
  stored: {intervalMs: number; intervals: StoredInterval[]} | null
  /** Parts per partition passed half of parts_to_delay_insert, reached it, or reached parts_to_throw_insert. */
  warnings: string[]
  /** Why sampling or the stored-rate query failed, when it did. */
  errors: string[]
}

interface Counters {
  inserted: number
  delayed: number
  rejected: number
  cpuUs: number
}

/** The sampling query for one table: every figure as a scalar subquery, so one round trip. */
export function sampleQuery(database: string, table: string): string {
  const db = quoteString(database)
  const tb = quoteString(table)
  const event = (names: string[]) => `(SELECT toUInt64(sum(value)) FROM system.events WHERE event IN (${names.map((n) => quoteString(n)).join(', ')}))`
  const metric = (name: string) => `(SELECT toInt64(sum(value)) FROM system.metrics WHERE metric = ${quoteString(name)})`
  const parts = `system.parts WHERE active AND database = ${db} AND table = ${tb}`
  return [
    'SELECT',
    `  ${event(['InsertedRows'])} AS inserted,`,
    `  ${event(['DelayedInserts'])} AS delayed,`,
    `  ${event(['RejectedInserts'])} AS rejected,`,
    `  ${event(['UserTimeMicroseconds', 'SystemTimeMicroseconds'])} AS cpu_us,`,
    `  ${metric('MemoryTracking')} AS memory,`,
    `  (SELECT toUInt64(count()) FROM system.merges) AS merges,`,
    `  (SELECT toUInt64(count()) FROM ${parts}) AS parts,`,
    `  (SELECT toUInt64(max(n)) FROM (SELECT count() AS n FROM ${parts} GROUP BY partition)) AS max_parts`,
  ].join('\n')
}

/** parts_to_delay_insert / parts_to_throw_insert from an engine clause's SETTINGS, when it sets them. */
export function tableSettingsLimits(engineFull: string): {partsToDelayInsert?: number; partsToThrowInsert?: number} {
  const settings = /\bSETTINGS\b(.*)$/is.exec(engineFull)?.[1] ?? ''
  const read = (name: string) => {
    const match = new RegExp(`\\b${name}\\s*=\\s*(\\d+)`).exec(settings)
    return match ? Number(match[1]) : undefined
  }

  return {partsToDelayInsert: read('parts_to_delay_insert'), partsToThrowInsert: read('parts_to_throw_insert')}
}

export async function readPartsLimits(store: Store, database: string, table: string): Promise<PartsLimits> {
  const limits: PartsLimits = {partsToDelayInsert: null, partsToThrowInsert: null, source: 'unknown'}
  try {
    const rows = await store.query<{name: string; value: string}>(
      "SELECT name, value FROM system.merge_tree_settings WHERE name IN ('parts_to_delay_insert', 'parts_to_throw_insert')",
    )
    for (const row of rows) {
      if (row.name === 'parts_to_delay_insert') limits.partsToDelayInsert = Number(row.value)
      if (row.name === 'parts_to_throw_insert') limits.partsToThrowInsert = Number(row.value)
    }

    if (rows.length > 0) limits.source = 'server'
  } catch {
    // An old or restricted server: no limits to compare with.
  }

  try {
    const [row] = await store.query<{engine_full: string}>('SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}', {db: database, table})
    const own = tableSettingsLimits(row?.engine_full ?? '')
    if (own.partsToDelayInsert !== undefined || own.partsToThrowInsert !== undefined) {
      limits.partsToDelayInsert = own.partsToDelayInsert ?? limits.partsToDelayInsert
      limits.partsToThrowInsert = own.partsToThrowInsert ?? limits.partsToThrowInsert
      limits.source = 'table'
    }
  } catch {
    // The table's own settings are unknown: the server's stand.
  }

  return limits
}

/** Warnings on parts per partition against the limits. */
export function partsWarnings(samples: readonly ClickHouseSample[], limits: PartsLimits, table: string): string[] {
  const peak = samples.reduce((max, s) => Math.max(max, s.maxPartsPerPartition), 0)
  const warnings: string[] = []
  const delay = limits.partsToDelayInsert
  const limitText = (name: string, value: number) => `${name} = ${value}${limits.source === 'table' ? ' (table setting)' : ''}`
  if (limits.partsToThrowInsert && peak >= limits.partsToThrowInsert) {
    warnings.push(`${table} reached ${peak} active parts in one partition: ${limitText('parts_to_throw_insert', limits.partsToThrowInsert)}, so INSERTs fail with "Too many parts"`)
  } else if (delay && peak >= delay) {
    warnings.push(`${table} reached ${peak} active parts in one partition: ${limitText('parts_to_delay_insert', delay)}, so INSERTs were slowed down; send fewer, larger inserts`)
  } else if (delay && peak > delay / 2) {
    warnings.push(`${table} had ${peak} active parts in one partition, past half of ${limitText('parts_to_delay_insert', delay)}: inserts are too small or too frequent for merges to keep up`)
  }

  const rejected = samples.reduce((sum, s) => sum + s.rejectedInserts, 0)
  const delayed = samples.reduce((sum, s) => sum + s.delayedInserts, 0)
  if (rejected > 0) warnings.push(`ClickHouse refused ${rejected} INSERTs for too many parts`)
  if (delayed > 0) warnings.push(`ClickHouse delayed ${delayed} INSERTs for too many parts`)
  return warnings
}

/** Fold one ClickHouse sample into another of the same wider interval: counts add up, gauges keep their peak. */
function addViewSample(into: ClickHouseSample, s: ClickHouseSample): void {
  into.insertedRows += s.insertedRows
  into.delayedInserts += s.delayedInserts
  into.rejectedInserts += s.rejectedInserts
  into.queryCpuMs = Math.round((into.queryCpuMs + s.queryCpuMs) * 1000) / 1000
  into.maxPartsPerPartition = Math.max(into.maxPartsPerPartition, s.maxPartsPerPartition)
  into.activeParts = Math.max(into.activeParts, s.activeParts)
  into.merges = Math.max(into.merges, s.merges)
  into.memoryBytes = Math.max(into.memoryBytes, s.memoryBytes)
}

/** Samples kept at most MAX_INTERVALS: past that the interval doubles. */
export function boundViewSamples(samples: ClickHouseSample[], intervalMs: number, max = MAX_INTERVALS): {intervalMs: number; samples: ClickHouseSample[]} {
  return coarsenSamples(samples, intervalMs, addViewSample, max)
}

export interface ViewSampler {
  /** Resolves once the counters before the run are read. */
  ready: Promise<void>
  /** Stop sampling; the view so far (without the stored rate). */
  stop(): Promise<ClickHouseView>
}

const num = (value: unknown) => (value === null || value === undefined ? 0 : Number(value))

/**
 * Sample ClickHouse at every interval boundary until stopped. A failed
 * sample skips its interval and is noted once; sampling never fails a run.
 */
export function sampleClickHouse(store: Store, options: {intervalMs: number; database?: string; table?: string}): ViewSampler {
  const database = options.database ?? store.info.database
  const table = options.table ?? store.info.table
  const {intervalMs} = options
  const sql = sampleQuery(database, table)
  const samples: ClickHouseSample[] = []
  const errors: string[] = []
  let last: Counters | undefined
  let busy = false
  let pending: Promise<void> = Promise.resolve()
  const limitsPromise = readPartsLimits(store, database, table)

  const take = async (at: number) => {
    if (busy) return
    busy = true
    try {
      const [row] = await store.query<Record<string, unknown>>(sql)
      const now: Counters = {cpuUs: num(row?.cpu_us), delayed: num(row?.delayed), inserted: num(row?.inserted), rejected: num(row?.rejected)}
      if (last) {
        samples.push({
          activeParts: num(row?.parts),
          at,
          delayedInserts: Math.max(0, now.delayed - last.delayed),
          insertedRows: Math.max(0, now.inserted - last.inserted),
          maxPartsPerPartition: num(row?.max_parts),
          memoryBytes: Math.max(0, num(row?.memory)),
          merges: num(row?.merges),
          queryCpuMs: Math.max(0, Math.round(now.cpuUs - last.cpuUs) / 1000),
          rejectedInserts: Math.max(0, now.rejected - last.rejected),
        })
      }

      last = now
    } catch (error) {
      const message = `sampling ClickHouse failed: ${(error as Error).message}`
      if (!errors.includes(message)) errors.push(message)
    } finally {
      busy = false
    }
  }

  // The baseline: counters before the run.
  pending = take(0)
  const ticker = onIntervalBoundaries(intervalMs, (boundary) => {
    pending = take(boundary - intervalMs)
  })
  return {
    ready: pending,
    async stop() {
      ticker.stop()
      await pending
      // The last, partial interval.
      await take(Math.floor(Date.now() / intervalMs) * intervalMs)
      const limits = await limitsPromise
      const name = `${database}.${table}`
      const kept = boundViewSamples(samples, intervalMs)
      return {errors, intervalMs: kept.intervalMs, limits, samples: kept.samples, stored: null, table: name, warnings: partsWarnings(samples, limits, name)}
    },
  }
}

export interface StoredRateColumns {
  /** SQL expression of a row's ingest time, a DateTime or DateTime64 (from the table profile). */
  ingestTime: string
  /** SQL expression of a row's run id (from the table profile). */
  runId: string
}

/** Rows of a run stored per interval (whole seconds at least), by their ingest time. */
export async function storedPerInterval(store: Store, runId: string, columns: StoredRateColumns, intervalMs: number): Promise<{intervalMs: number; intervals: StoredInterval[]}> {
  const seconds = Math.max(1, Math.round(intervalMs / 1000))
  const rows = await store.query<{t: number; n: number}>(
    `SELECT intDiv(toUInt32(${columns.ingestTime}), ${seconds}) * ${seconds} AS t, count() AS n FROM ${store.tableRef} WHERE ${columns.runId} = {runId:String} GROUP BY t ORDER BY t`,
    {runId},
  )
  return {intervalMs: seconds * 1000, intervals: rows.map((row) => ({at: Number(row.t) * 1000, rows: Number(row.n)}))}
}
