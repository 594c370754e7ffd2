import {mkdirSync} from 'node:fs'
import path from 'node:path'

import type {CommandOptions, InsertOptions, QueryParams, Store, StoreInfo} from './types.js'

import {environmentError, messageOf} from '../errors.js'
import {capabilitiesFor, parseVersion} from './capabilities.js'
import {adoptExistingTable, ensureSchema} from './schema.js'
import {assertIdentifier, paramText, quoteIdentifier} from './sql.js'
import {ClickHouseError, cleanClickHouseMessage, clickHouseCodeOf, COLUMNS} from './types.js'

export interface EmbeddedStoreOptions {
  dataDir: string
  database: string
  table: string
}

type ChdbModule = typeof import('chdb')
type ChdbSession = InstanceType<ChdbModule['Session']>

let chdbModule: Promise<ChdbModule> | undefined

/** chDB is about 540 MB of native code: load it only when a command needs it. */
function loadChdb(): Promise<ChdbModule> {
  chdbModule ??= import('chdb').catch((error: unknown) => {
    chdbModule = undefined
    throw environmentError(
      `the embedded ClickHouse engine (npm package "chdb") cannot be loaded: ${messageOf(error)}`,
      'run "npm install" (chdb is an optional dependency for Linux and macOS), or use a server with --clickhouse-url',
      error,
    )
  })
  return chdbModule
}

function toClickHouseError(error: unknown): Error {
  if (error instanceof ClickHouseError || (error as Error)?.name === 'LogbenchError') return error as Error
  const text = messageOf(error)
  const code = (error as {clickhouseCode?: number}).clickhouseCode ?? clickHouseCodeOf(text)
  return new ClickHouseError(cleanClickHouseMessage(text), code, {cause: error})
}

export class EmbeddedStore implements Store {
  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    assertIdentifier(options.database, 'database')
    assertIdentifier(options.table, 'table')
    const dataDir = path.resolve(options.dataDir)
    const chdb = await loadChdb()
    let session: ChdbSession
    try {
      mkdirSync(dataDir, {recursive: true})
      session = new chdb.Session(dataDir, {connectionArgs: ['--output_format_json_quote_64bit_integers=0']})
      // The lock on the directory is taken when the engine first runs a query.
      const [row] = (await session.queryAsync('SELECT version() AS v', {format: 'JSONEachRow'})).text().trim().split('\n')
      const version = parseVersion((JSON.parse(row) as {v: string}).v)
      const store = new EmbeddedStore(session, {
        capabilities: capabilitiesFor(version),
        database: options.database,
        kind: 'embedded',
        location: dataDir,
        table: options.table,
        version,
      })
      await adoptExistingTable(store)
      return store
    } catch (error) {
      const text = messageOf(error)
      if (/lock|another .*instance|only one active data directory/i.test(text)) {
        throw environmentError(
          `the embedded data directory ${dataDir} is in use by another process (${text.split('\n')[0]})`,
          'stop the other logbench (a running "logbench serve"?), pass a different --data-dir, or send to the running serve with --target',
          error,
        )
      }

      throw environmentError(`cannot open the embedded engine in ${dataDir}: ${text}`, 'check that the directory is writable, or pass --data-dir', error)
    }
  }

  readonly tableRef: string

  private constructor(
    private session: ChdbSession | undefined,
    readonly info: StoreInfo,
  ) {
    this.tableRef = `${quoteIdentifier(info.database)}.${quoteIdentifier(info.table)}`
  }

  async close(): Promise<void> {
    this.session?.close()
    this.session = undefined
  }

  async command(sql: string, params?: QueryParams, options: CommandOptions = {}): Promise<void> {
    const session = this.live()
    for (const [name, value] of Object.entries(options.settings ?? {})) {
      await session.queryAsync(`SET ${quoteIdentifier(name)} = ${typeof value === 'number' ? value : `'${String(value).replaceAll(/['\\]/g, '\\$&')}'`}`)
    }

    await this.run(sql, params, 'TabSeparated', options.signal)
  }

  ensureSchema(): Promise<void> {
    return ensureSchema(this)
  }

  async insert(body: string | Uint8Array | readonly Uint8Array[], options: InsertOptions = {}): Promise<void> {
    if (options.format !== undefined && options.format !== 'JSONEachRow') throw new Error(`the embedded engine takes JSONEachRow inserts, not ${options.format}`)
    const values = typeof body === 'string' || body instanceof Uint8Array ? body : Buffer.concat(body as Uint8Array[])
    const settings: Record<string, string> = {}
    if (options.dedupToken && this.info.capabilities.insertDedupToken) settings.insert_deduplication_token = options.dedupToken
    try {
      await this.live().insert({
        columns: COLUMNS,
        format: 'JSONEachRow',
        settings,
        signal: options.signal,
        table: `${this.info.database}.${this.info.table}`,
        values,
      })
    } catch (error) {
      throw toClickHouseError(error)
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.live().queryAsync('SELECT 1')
      return true
    } catch {
      return false
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams, options: {signal?: AbortSignal} = {}): Promise<T[]> {
    const text = await this.run(sql, params, 'JSONEachRow', options.signal)
    const rows: T[] = []
    for (const line of text.split('\n')) if (line) rows.push(JSON.parse(line) as T)
    return rows
  }

  async schemaExists(): Promise<boolean> {
    const [row] = await this.query<{n: number}>('SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {table:String}', {
      db: this.info.database,
      table: this.info.table,
    })
    return row.n > 0
  }

  private live(): ChdbSession {
    if (!this.session) throw new Error('the embedded store is closed')
    return this.session
  }

  private async run(sql: string, params: QueryParams | undefined, format: string, signal?: AbortSignal): Promise<string> {
    const session = this.live()
    try {
      if (params && Object.keys(params).length > 0) {
        const bound = Object.fromEntries(Object.entries(params).map(([name, value]) => [name, Array.isArray(value) ? value : paramText(value)]))
        return (await session.queryBindAsync(sql, bound, {format, signal})).text()
      }

      return (await session.queryAsync(sql, {format, signal})).text()
    } catch (error) {
      throw toClickHouseError(error)
    }
  }
}
