import {Pool} from 'undici'

import type {CommandOptions, InsertOptions, QueryParams, Store, StoreInfo} from './types.js'

import {environmentError, messageOf, systemCodeOf} from '../errors.js'
import {type Capabilities, capabilitiesFor, parseVersion} from './capabilities.js'
import {adoptExistingTable, ensureSchema} from './schema.js'
import {assertIdentifier, bindParams, type ParamValue, paramText, quoteIdentifier} from './sql.js'
import {ClickHouseError, cleanClickHouseMessage, clickHouseCodeOf, COLUMNS} from './types.js'

export interface ServerStoreOptions {
  url: string
  user?: string
  password?: string
  database: string
  table: string
  /** Per-request timeout in ms (default 60 s). */
  requestTimeoutMs?: number
  /** Connections kept to the server (default 8). */
  connections?: number
}

interface Endpoint {
  origin: string
  basePath: string
  /** URL shown to people: no password, ever. */
  display: string
  authorization?: string
}

/** Split a ClickHouse URL into what is dialled and what is shown; credentials never reach `display`. */
export function parseServerUrl(url: string, user?: string, password?: string): Endpoint {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw environmentError(`"${redactUrl(url)}" is not a URL`, 'pass --clickhouse-url http://HOST:8123 (or set CLICKHOUSE_URL)')
  }

  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw environmentError(
      `ClickHouse URL "${redactUrl(url)}" must use http or https (the HTTP interface, usually port 8123)`,
      'pass --clickhouse-url http://HOST:8123',
    )
  }

  const username = user ?? decodeURIComponent(parsed.username)
  const secret = password ?? decodeURIComponent(parsed.password)
  const basePath = parsed.pathname.replace(/\/+$/, '')
  const display = `${parsed.protocol}//${username ? username + '@' : ''}${parsed.host}${basePath}`
  const authorization = username || secret ? 'Basic ' + Buffer.from(`${username || 'default'}:${secret}`).toString('base64') : undefined
  return {authorization, basePath, display, origin: parsed.origin}
}

/**
 * A URL with any password replaced, for messages about URLs that may not even parse. The
 * credentials run from "//" to the last "@" (a password may hold "/" or "@").
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('//')
  const at = url.lastIndexOf('@')
  if (start === -1 || at < start) return url
  const userinfo = url.slice(start + 2, at)
  const colon = userinfo.indexOf(':')
  return url.slice(0, start + 2) + (colon === -1 ? userinfo : userinfo.slice(0, colon) + ':***') + url.slice(at)
}

/** A query parameter value as the HTTP interface reads it: in the Escaped (TSV) format. */
export function httpParamValue(value: ParamValue): string {
  return paramText(value).replaceAll(/[\\\t\n\r]/g, (ch) => ({'\t': '\\t', '\n': '\\n', '\r': '\\r'})[ch] ?? '\\\\')
}

const seconds = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 1 : 0)

const SETTINGS_BASE = {output_format_json_quote_64bit_integers: '0'}

export class ServerStore implements Store {
  static async open(options: ServerStoreOptions): Promise<ServerStore> {
    assertIdentifier(options.database, 'database')
    assertIdentifier(options.table, 'table')
    const endpoint = parseServerUrl(options.url, options.user, options.password)
    const store = new ServerStore(endpoint, options)
    try {
      const [row] = await store.query<{v: string}>('SELECT version() AS v')
      const version = parseVersion(row.v)
      store.info = {
        capabilities: capabilitiesFor(version),
        database: options.database,
        kind: 'server',
        location: endpoint.display,
        insertFormats: ['JSONEachRow', 'RowBinary'],
        table: options.table,
        version,
      }
      await adoptExistingTable(store)
      return store
    } catch (error) {
      await store.close()
      throw error
    }
  }

  info!: StoreInfo
  readonly tableRef: string
  private readonly pool: Pool
  private readonly timeoutMs: number

  private constructor(
    private readonly endpoint: Endpoint,
    options: ServerStoreOptions,
  ) {
    this.tableRef = `${quoteIdentifier(options.database)}.${quoteIdentifier(options.table)}`
    this.timeoutMs = options.requestTimeoutMs ?? 60_000
    // ClickHouse closes idle keep-alive connections after a few seconds (3 s on 18.16):
    // drop ours before that so a request never lands on a socket the server is closing.
    this.pool = new Pool(endpoint.origin, {
      connections: options.connections ?? 8,
      keepAliveMaxTimeout: 2000,
      keepAliveTimeout: 2000,
      keepAliveTimeoutThreshold: 500,
    })
  }

  private get caps(): Capabilities | undefined {
    return this.info?.capabilities
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy())
  }

  async command(sql: string, params?: QueryParams, options: CommandOptions = {}): Promise<void> {
    await this.request(sql, params, {settings: options.settings, signal: options.signal, timeoutMs: options.timeoutMs})
  }

  ensureSchema(): Promise<void> {
    return ensureSchema(this)
  }

  async insert(body: string | Uint8Array | readonly Uint8Array[], options: InsertOptions = {}): Promise<void> {
    const settings: Record<string, string> = {}
    if (options.dedupToken && this.caps?.insertDedupToken) settings.insert_deduplication_token = options.dedupToken
    const format = options.format === 'RowBinary' ? 'RowBinary' : 'JSONEachRow'
    const sql = `INSERT INTO ${this.tableRef} (${COLUMNS.join(', ')}) FORMAT ${format}`
    await this.request(sql, undefined, {body, retryable: false, settings, signal: options.signal})
  }

  async ping(): Promise<boolean> {
    try {
      const {body, statusCode} = await this.pool.request({
        headersTimeout: 5000,
        method: 'GET',
        path: `${this.endpoint.basePath}/ping`,
      })
      await body.dump()
      return statusCode === 200
    } catch {
      return false
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams, options: {signal?: AbortSignal} = {}): Promise<T[]> {
    const text = await this.request(`${sql}\nFORMAT JSONEachRow`, params, {signal: options.signal})
    const rows: T[] = []
    for (const line of text.split('\n')) if (line) rows.push(JSON.parse(line) as T)
    return rows
  }

  schemaExists(): Promise<boolean> {
    return this.query<{n: number}>(
      'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {table:String}',
      {db: this.info.database, table: this.info.table},
    ).then(([row]) => row.n > 0)
  }

  private async request(
    sql: string,
    params: QueryParams | undefined,
    options: {body?: string | Uint8Array | readonly Uint8Array[]; retryable?: boolean; settings?: Record<string, string | number>; signal?: AbortSignal; timeoutMs?: number},
  ): Promise<string> {
    const search = new URLSearchParams(SETTINGS_BASE)
    for (const [name, value] of Object.entries(options.settings ?? {})) search.set(name, String(value))
    let statement = sql
    if (params && Object.keys(params).length > 0) {
      if (this.caps?.queryParameters) {
        for (const [name, value] of Object.entries(params)) search.set(`param_${name}`, httpParamValue(value))
      } else {
        statement = bindParams(sql, params)
      }
    }

    // With a body (an INSERT), the statement travels in the URL and the rows in the body.
    let body: string | Uint8Array | Buffer
    if (options.body === undefined) {
      body = statement
    } else {
      search.set('query', statement)
      body = typeof options.body === 'string' || options.body instanceof Uint8Array ? options.body : Buffer.concat(options.body as Uint8Array[])
    }

    const headers: Record<string, string> = {'content-type': 'text/plain; charset=utf-8'}
    if (this.endpoint.authorization) headers.authorization = this.endpoint.authorization
    const attempts = options.retryable === false ? 1 : 2
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.pool.request({
          body,
          bodyTimeout: options.timeoutMs ?? this.timeoutMs,
          headers,
          headersTimeout: options.timeoutMs ?? this.timeoutMs,
          method: 'POST',
          path: `${this.endpoint.basePath}/?${search.toString()}`,
          signal: options.signal,
        })
        const text = await response.body.text()
        if (response.statusCode !== 200) {
          const code = clickHouseCodeOf(text)
          if (response.statusCode === 401 || response.statusCode === 403 || code === 516 || code === 192 || code === 193) {
            throw environmentError(
              `ClickHouse at ${this.endpoint.display} refused the credentials: ${cleanClickHouseMessage(text)}`,
              'check --clickhouse-user / --clickhouse-password (or CLICKHOUSE_USER / CLICKHOUSE_PASSWORD)',
            )
          }

          throw new ClickHouseError(cleanClickHouseMessage(text) || `HTTP ${response.statusCode}`, code)
        }

        return text
      } catch (error) {
        if (error instanceof ClickHouseError || (error as Error).name === 'LogbenchError' || options.signal?.aborted) throw error
        const code = systemCodeOf(error) ?? (error as {code?: string}).code
        if (attempt < attempts && (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')) continue
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
          throw environmentError(
            `ClickHouse at ${this.endpoint.display} did not answer within ${seconds(options.timeoutMs ?? this.timeoutMs)} s; the statement may still be running there`,
            'follow it in system.processes (and system.mutations for a DELETE), or allow more time (cleanup --timeout)',
            error,
          )
        }

        throw environmentError(
          `cannot reach ClickHouse at ${this.endpoint.display} (${code ?? messageOf(error)})`,
          'start it with "docker compose up -d" or pass --clickhouse-url (or set CLICKHOUSE_URL)',
          error,
        )
      }
    }
  }
}
