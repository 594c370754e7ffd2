import type {Capabilities, Version} from './capabilities.js'
import type {ParamValue} from './sql.js'

export type StoreKind = 'server' | 'embedded'

export const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const
export type Level = (typeof LEVELS)[number]

/** One log row as stored. Times are epoch milliseconds. */
export interface LogRow {
  timestamp: number
  created_at: number
  app_id: string
  level: Level
  message: string
  source: string
  /** JSON text of the log's metadata object ('' when none). */
  metadata: string
  run_id: string
  seq: number
  batch_id: string
}

/** Column order of the JSONEachRow bodies the store accepts. */
export const COLUMNS = [
  'timestamp',
  'created_at',
  'app_id',
  'level',
  'message',
  'source',
  'metadata',
  'run_id',
  'seq',
  'batch_id',
] as const satisfies readonly (keyof LogRow)[]

export interface StoreInfo {
  kind: StoreKind
  /** Server URL without credentials, or the embedded data directory. */
  location: string
  version: Version
  capabilities: Capabilities
  database: string
  table: string
  /**
   * Insert formats this back end takes now (JSONEachRow when absent). Read it when choosing
   * a writer: the embedded engine offers RowBinary only while it can write its insert files.
   */
  insertFormats?: readonly InsertFormat[]
}

/** Formats an insert body can be in (see Store.insert). */
export type InsertFormat = 'JSONEachRow' | 'RowBinary'

export interface InsertOptions {
  /** Deduplication token; applied where the server has insert_deduplication_token. */
  dedupToken?: string
  /** Format of the body (default JSONEachRow); one of StoreInfo.insertFormats. */
  format?: InsertFormat
  signal?: AbortSignal
}

export type QueryParams = Record<string, ParamValue>

export interface CommandOptions {
  signal?: AbortSignal
  settings?: Record<string, string | number>
  /** Time allowed for the statement, where the back end has a limit (the server's request timeout otherwise). */
  timeoutMs?: number
}

/**
 * The storage interface. Two back ends implement it: a ClickHouse server over
 * HTTP and the embedded engine. Nothing outside src/lib/store knows which.
 */
export interface Store {
  readonly info: StoreInfo
  /** `database`.`table`, quoted. */
  readonly tableRef: string
  /** Create the database and table when missing; safe from several processes at once. */
  ensureSchema(): Promise<void>
  schemaExists(): Promise<boolean>
  /**
   * Insert a body (JSONEachRow unless options.format says otherwise) whose rows carry every
   * column of COLUMNS, in that order; RowBinary in the table's types. Resolves once committed.
   */
  insert(body: string | Uint8Array | readonly Uint8Array[], options?: InsertOptions): Promise<void>
  /** Run a SELECT with `{name:Type}` placeholders; rows as objects (64-bit integers as numbers). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams, options?: {signal?: AbortSignal}): Promise<T[]>
  /** Run a statement that returns nothing (DDL, ALTER, OPTIMIZE, ...). */
  command(sql: string, params?: QueryParams, options?: CommandOptions): Promise<void>
  /** Is the store reachable right now? */
  ping(): Promise<boolean>
  close(): Promise<void>
}

/** An error reported by ClickHouse itself, with its numeric code. */
export class ClickHouseError extends Error {
  readonly code: number | undefined
  constructor(message: string, code?: number, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'ClickHouseError'
    this.code = code
  }
}

/** "Code: 60, e.displayText() = DB::Exception: Table x doesn't exist." -> 60 */
export function clickHouseCodeOf(text: string): number | undefined {
  const match = /Code: (\d+)/.exec(text)
  return match ? Number(match[1]) : undefined
}

/** The readable part of a ClickHouse exception text. */
export function cleanClickHouseMessage(text: string): string {
  const trimmed = text.trim()
  const display = /e\.displayText\(\) = (?:DB::Exception: )?(.*?)(?:, e\.what\(\) = .*)?$/s.exec(trimmed)
  if (display) return display[1].trim()
  return trimmed.replace(/^Code: \d+\. DB::Exception: /, '').replace(/\s*\(version [^)]*\)\s*$/, '').trim()
}
