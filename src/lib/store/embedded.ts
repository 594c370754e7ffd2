/**
 * The embedded engine (chDB, ClickHouse in this process) behind the Store interface.
 * JSONEachRow batches go through the engine's insert call; RowBinary batches, which cost
 * the engine far less, through a file on a memory-backed file system (insert-files.ts)
 * read by `INSERT ... SELECT * FROM file(...)`, in the table's own column types.
 */
import {mkdirSync} from 'node:fs'
import path from 'node:path'

import type {CommandOptions, InsertFormat, InsertOptions, QueryParams, Store, StoreInfo} from './types.js'

import {environmentError, messageOf} from '../errors.js'
import {capabilitiesFor, parseVersion} from './capabilities.js'
import {InsertFiles} from './insert-files.js'
import {rowBinaryToJsonEachRow} from './row-binary.js'
import {adoptExistingTable, ensureSchema} from './schema.js'
import {assertIdentifier, paramText, quoteIdentifier, quoteString} from './sql.js'
import {ClickHouseError, cleanClickHouseMessage, clickHouseCodeOf, COLUMNS} from './types.js'

export interface EmbeddedStoreOptions {
  dataDir: string
  database: string
  table: string
  /** Where RowBinary insert files go (default: /dev/shm when it has room, else the OS temp directory). */
  tempDir?: string
  /** Warnings (insert files that cannot be written); default: a line on stderr. */
  warn?: (message: string) => void
}

/** CANNOT_OPEN_FILE, FILE_DOESNT_EXIST: what the engine says when an insert file is not there. */
const FILE_GONE_CODES = new Set([76, 107])

const warnOnStderr = (message: string) => {
  process.stderr.write(`Warning: ${message}\n`)
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

/** A promise that rejects as soon as the signal aborts (the work itself goes on). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, {once: true})
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
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
      const files = new InsertFiles({base: options.tempDir, dataDir, warn: options.warn ?? warnOnStderr})
      // The engine holds the data directory from here on: files of its name are left over.
      files.sweep()
      const store = new EmbeddedStore(
        session,
        {
          capabilities: capabilitiesFor(version),
          database: options.database,
          kind: 'embedded',
          location: dataDir,
          table: options.table,
          version,
        },
        files,
      )
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
  /** `name type, ...` of COLUMNS in the table's own types, for file(); read on first use. */
  private structure: Promise<string> | undefined

  private constructor(
    private session: ChdbSession | undefined,
    readonly info: StoreInfo,
    private readonly files: InsertFiles,
  ) {
    this.tableRef = `${quoteIdentifier(info.database)}.${quoteIdentifier(info.table)}`
    // RowBinary is offered when insert files can be written, which is checked (and warned
    // about, once) only when a writer asks: commands that never insert never touch them.
    Object.defineProperty(info, 'insertFormats', {
      configurable: true,
      enumerable: false,
      get: (): readonly InsertFormat[] => (this.files.usable() ? ['JSONEachRow', 'RowBinary'] : ['JSONEachRow']),
    })
  }

  async close(): Promise<void> {
    this.session?.close()
    this.session = undefined
    this.files.close()
  }

  async command(sql: string, params?: QueryParams, options: CommandOptions = {}): Promise<void> {
    const session = this.live()
    for (const [name, value] of Object.entries(options.settings ?? {})) {
      await session.queryAsync(`SET ${quoteIdentifier(name)} = ${typeof value === 'number' ? value : `'${String(value).replaceAll(/['\\]/g, '\\$&')}'`}`)
    }

    await this.run(sql, params, 'TabSeparated', options.signal)
  }

  async ensureSchema(): Promise<void> {
    this.structure = undefined
    await ensureSchema(this)
  }

  async insert(body: string | Uint8Array | readonly Uint8Array[], options: InsertOptions = {}): Promise<void> {
    const format = options.format ?? 'JSONEachRow'
    if (format !== 'JSONEachRow' && format !== 'RowBinary') throw new Error(`the embedded engine takes JSONEachRow or RowBinary inserts, not ${String(format)}`)
    const values = typeof body === 'string' || body instanceof Uint8Array ? body : Buffer.concat(body as Uint8Array[])
    if (format === 'JSONEachRow') return this.insertJson(values, options)
    if (typeof values === 'string') throw new Error('a RowBinary insert body must be bytes')
    const structure = await this.columnStructure()
    const file = this.files.write(values)
    // No file (the temp directory is full or unwritable): the same rows as JSONEachRow.
    const asJson = () => this.insertJson(rowBinaryToJsonEachRow(values, this.info.capabilities), options)
    if (file === undefined) return asJson()
    const settings = this.dedupSetting(options)
    const sql =
      `INSERT INTO ${this.tableRef} (${COLUMNS.join(', ')})${settings ? ` SETTINGS ${settings}` : ''} ` +
      `SELECT * FROM file(${quoteString(file)}, 'RowBinary', ${quoteString(structure)})`
    // The file goes once the engine is done with it, even when the caller stops waiting.
    const done = this.live()
      .queryAsync(sql)
      .finally(() => this.files.remove(file))
    try {
      await (options.signal ? abortable(done, options.signal) : done)
    } catch (error) {
      const failure = toClickHouseError(error)
      // The file vanished before the engine opened it (a temp cleaner): nothing was
      // inserted, so the rows go again as JSONEachRow.
      if (failure instanceof ClickHouseError && FILE_GONE_CODES.has(failure.code ?? 0) && failure.message.includes(file) && !options.signal?.aborted) {
        this.files.lost(failure.message)
        return asJson()
      }

      throw failure
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

  private dedupSetting(options: InsertOptions): string | undefined {
    return options.dedupToken && this.info.capabilities.insertDedupToken ? `insert_deduplication_token = ${quoteString(options.dedupToken)}` : undefined
  }

  private async insertJson(values: string | Uint8Array, options: InsertOptions): Promise<void> {
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

  /** The table's types of COLUMNS: RowBinary is read as the table stores it. */
  private columnStructure(): Promise<string> {
    this.structure ??= this.query<{name: string; type: string}>(
      'SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}',
      {db: this.info.database, table: this.info.table},
    ).then(
      (rows) => {
        const typeOf = new Map(rows.map((row) => [row.name, row.type]))
        const missing = COLUMNS.filter((column) => !typeOf.has(column))
        if (missing.length > 0) throw new ClickHouseError(`table ${this.tableRef} has no column ${missing.join(', ')}`)
        return COLUMNS.map((column) => `${column} ${typeOf.get(column)}`).join(', ')
      },
      (error: unknown) => {
        this.structure = undefined
        throw error
      },
    )
    return this.structure
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
