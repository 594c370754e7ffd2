/**
 * Where the history is: files under `.logbench/history` in the working
 * directory by default; with `--history-url` (or LOGBENCH_HISTORY_URL) a
 * ClickHouse server (`http://…`, `https://…`), the embedded engine in a data
 * directory of its own (`embedded:DIR`), or files in another directory
 * (`file:DIR`).
 */
import path from 'node:path'

import type {HistoryStore} from './types.js'

import {usageError} from '../../errors.js'
import {openStore} from '../../store/index.js'
import {redactUrl} from '../record/redact.js'
import {ClickHouseHistory, HISTORY_DATABASE} from './clickhouse.js'
import {FileHistory} from './file.js'

/** The default history, relative to the working directory: beside the embedded engine's `.logbench/data`. */
export const DEFAULT_HISTORY_DIR = '.logbench/history'

export type HistoryLocation =
  | {kind: 'files'; dir: string}
  | {kind: 'server'; url: string; user?: string; password?: string}
  | {kind: 'embedded'; dataDir: string}

export interface LocationOptions {
  /** --history-url, else LOGBENCH_HISTORY_URL; absent for the default. */
  historyUrl?: string
  cwd?: string
  /** The server's credentials when the URL carries none (CLICKHOUSE_USER / CLICKHOUSE_PASSWORD do not apply: the history may be elsewhere). */
  user?: string
  password?: string
}

/** Where the options say the history is; a URL of another kind is a usage error (exit 2). */
export function historyLocation(options: LocationOptions): HistoryLocation {
  const cwd = options.cwd ?? process.cwd()
  const url = options.historyUrl?.trim()
  if (!url) return {dir: path.resolve(cwd, DEFAULT_HISTORY_DIR), kind: 'files'}
  const hint = 'give http://HOST:8123 (a ClickHouse server), embedded:DIR (the embedded engine in its own data directory) or file:DIR (files in a directory)'
  if (/^https?:\/\//i.test(url)) {
    if (!URL.canParse(url)) throw usageError(`--history-url "${redactUrl(url)}" is not a URL`, hint)
    return {kind: 'server', password: options.password, url, user: options.user}
  }

  const embedded = /^embedded:(.+)$/i.exec(url)
  if (embedded) return {dataDir: path.resolve(cwd, embedded[1]), kind: 'embedded'}
  const files = /^file:(?:\/\/)?(.+)$/i.exec(url)
  if (files) return {dir: path.resolve(cwd, files[1]), kind: 'files'}
  throw usageError(`--history-url "${redactUrl(url)}" is not a history location`, hint)
}

export function describeLocation(location: HistoryLocation): string {
  if (location.kind === 'files') return location.dir
  if (location.kind === 'embedded') return `the embedded engine in ${location.dataDir}`
  return `ClickHouse at ${redactUrl(location.url)}`
}

/** Open the history; an unreachable server is an environment error (exit 3). */
export async function openHistory(location: HistoryLocation, options: {requestTimeoutMs?: number} = {}): Promise<HistoryStore> {
  if (location.kind === 'files') return new FileHistory(location.dir)
  const store = await openStore(
    location.kind === 'server'
      ? {clickhouseUrl: location.url, database: HISTORY_DATABASE, password: location.password, requestTimeoutMs: options.requestTimeoutMs ?? 15_000, table: 'runs', user: location.user}
      : {database: HISTORY_DATABASE, dataDir: location.dataDir, table: 'runs'},
  )
  try {
    return await ClickHouseHistory.open(store)
  } catch (error) {
    await store.close()
    throw error
  }
}
