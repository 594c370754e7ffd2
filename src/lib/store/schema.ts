import type {Capabilities} from './capabilities.js'
import type {Store} from './types.js'

import {quoteIdentifier} from './sql.js'
import {ClickHouseError, LEVELS} from './types.js'

/** DDL for the logs table, the richest the server's capabilities allow. */
export function createTableSql(database: string, table: string, caps: Capabilities): string {
  const lc = (type: string) => (caps.lowCardinality ? `LowCardinality(${type})` : type)
  const time = caps.dateTime64 ? "DateTime64(3, 'UTC')" : "DateTime('UTC')"
  const codec = (spec: string) => (caps.codecs ? ` CODEC(${spec})` : '')
  const levelEnum = `Enum8(${LEVELS.map((level, i) => `'${level}' = ${i + 1}`).join(', ')})`
  const columns = [
    `timestamp ${time}${codec('Delta, ZSTD(1)')}`,
    `created_at ${time}${codec('Delta, ZSTD(1)')}`,
    `app_id ${lc('String')}`,
    `level ${levelEnum}`,
    `message String${codec('ZSTD(1)')}`,
    `source ${lc('String')}`,
    `metadata String${codec('ZSTD(1)')}`,
    `run_id ${lc('String')}`,
    `seq UInt64${codec('Delta, ZSTD(1)')}`,
    `batch_id String${codec('ZSTD(1)')}`,
  ]
  const settings = caps.insertDedupToken ? '\nSETTINGS non_replicated_deduplication_window = 10000' : ''
  return (
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(database)}.${quoteIdentifier(table)}\n(\n  ` +
    columns.join(',\n  ') +
    `\n)\nENGINE = MergeTree\nPARTITION BY toDate(created_at)\nORDER BY (app_id, level, created_at)` +
    settings
  )
}

export function createDatabaseSql(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}`
}

/** ClickHouse codes meaning "already exists": harmless when several processes create the schema at once. */
export const ALREADY_EXISTS_CODES = new Set([57, 82])

/**
 * An existing table decides how times are written and read: a table created by an older
 * server keeps DateTime after an upgrade, and epoch milliseconds sent into it would be
 * read as seconds. So `dateTime64` follows the table's created_at once there is a table.
 */
export async function adoptExistingTable(store: Store): Promise<void> {
  const rows = await store.query<{type: string}>(
    "SELECT type FROM system.columns WHERE database = {db:String} AND table = {table:String} AND name = 'created_at'",
    {db: store.info.database, table: store.info.table},
  )
  if (rows.length > 0) store.info.capabilities.dateTime64 = rows[0].type.startsWith('DateTime64')
}

/**
 * Create the database and the logs table when missing, then adopt the table's time type:
 * the one implementation behind both back ends' ensureSchema. Safe from several processes
 * at once (an "already exists" from a concurrent creator is not an error).
 */
export async function ensureSchema(store: Store): Promise<void> {
  const {capabilities, database, table} = store.info
  for (const sql of [createDatabaseSql(database), createTableSql(database, table, capabilities)]) {
    try {
      await store.command(sql)
    } catch (error) {
      if (!(error instanceof ClickHouseError && error.code !== undefined && ALREADY_EXISTS_CODES.has(error.code))) throw error
    }
  }

  await adoptExistingTable(store)
}
