import type {Store} from './types.js'

import {DEFAULT_DATA_DIR, DEFAULT_DATABASE, DEFAULT_TABLE} from '../config.js'

export * from './capabilities.js'
export {describeStore, type StoreDescription} from './describe.js'
export {epochMsExpr, makeRowEncoder, type RowEncoder} from './rows.js'
export {assertIdentifier, bindParams, isIdentifier, quoteString} from './sql.js'
export * from './types.js'
export * from './profile.js'

export interface StoreOptions {
  /** A ClickHouse server's HTTP URL; absent means the embedded engine. */
  clickhouseUrl?: string
  user?: string
  password?: string
  dataDir?: string
  database?: string
  table?: string
  /** Server back end: time allowed for one request (default 60 s). */
  requestTimeoutMs?: number
  /** Embedded engine: where its RowBinary insert files go (default /dev/shm when it has room, else the OS temp directory). */
  tempDir?: string
  /** Warnings a store has for people (embedded engine: insert files that cannot be written); default: a line on stderr. */
  warn?: (message: string) => void
}

/** Open the store the options describe: a server when a URL is given, the embedded engine otherwise. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const database = options.database ?? DEFAULT_DATABASE
  const table = options.table ?? DEFAULT_TABLE
  if (options.clickhouseUrl) {
    const {ServerStore} = await import('./server.js')
    return ServerStore.open({database, password: options.password, requestTimeoutMs: options.requestTimeoutMs, table, url: options.clickhouseUrl, user: options.user})
  }

  const {EmbeddedStore} = await import('./embedded.js')
  return EmbeddedStore.open({dataDir: options.dataDir ?? DEFAULT_DATA_DIR, database, table, tempDir: options.tempDir, warn: options.warn})
}
