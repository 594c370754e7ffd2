/**
 * Recording a finished run into the history. The recorder never throws into
 * its caller: a history that cannot be written (a full disk, a server that is
 * down, a result it cannot read) costs a warning, and the run keeps its report
 * and its exit code.
 */
import type {GitInfo, HostInfo} from './host.js'
import {messageOf} from '../../errors.js'
import type {HistoryStore} from '../store/types.js'

import {asResultDocument, type ResultDoc} from '../document.js'
import {HISTORY_DATABASE, HISTORY_TABLES} from '../store/clickhouse.js'
import {describeLocation, historyLocation, openHistory} from '../store/open.js'
import {gitInfo, hostInfo} from './host.js'
import {buildRecord, type ClickHouseInfo} from './record.js'

export interface RecordRunOptions {
  /** The --json document of run, parallel, merge or capacity, as printed. */
  result: unknown
  /** The command that produced it: run, parallel, merge, capacity. */
  command: string
  /** Its arguments (process.argv.slice(2) or oclif's this.argv); secrets are removed before writing. */
  argv?: readonly string[]
  /** --tag values, parsed (parseTags) before the run so a bad one is a usage error then. */
  tags?: Record<string, string>
  /** The exit code the command ends with. */
  exitCode?: number | null
  /** --history-url, else LOGBENCH_HISTORY_URL; absent for the files under .logbench/history. */
  historyUrl?: string
  /** The working directory (the default history and the git commit); default process.cwd(). */
  cwd?: string
  logbenchVersion: string
  /** The ClickHouse server or engine and the table the run wrote to, when known. */
  clickhouse?: Partial<ClickHouseInfo> | null
  /** Told when the history could not be written (one line, no trailing newline). */
  warn: (line: string) => void
  /** Test seams. */
  now?: () => Date
  host?: HostInfo
  git?: (cwd: string) => Promise<GitInfo | null>
}

export type RecordOutcome = {recorded: true; id: string; location: string} | {recorded: false; reason: string}

function sameTable(table: string | null | undefined): boolean {
  if (!table) return false
  const [database, name] = table.replaceAll('`', '').split('.')
  return database === HISTORY_DATABASE && (HISTORY_TABLES as readonly string[]).includes(name)
}

/** Record a run. Resolves to what happened; never rejects, never throws. */
export async function recordRun(options: RecordRunOptions): Promise<RecordOutcome> {
  const warn = (reason: string): RecordOutcome => {
    try {
      options.warn(`the run was not recorded in the history: ${reason}`)
    } catch {
      // A warning that cannot be shown changes nothing either.
    }

    return {reason, recorded: false}
  }

  try {
    const cwd = options.cwd ?? process.cwd()
    const result = asResultDocument(options.result, 'the result')
    if (sameTable(options.clickhouse?.table)) return warn(`the table under test, ${options.clickhouse!.table}, is one of the history's own tables: give the history another server with --history-url`)
    const location = historyLocation({cwd, historyUrl: options.historyUrl})
    const record = buildRecord({
      argv: options.argv,
      clickhouse: options.clickhouse,
      command: options.command,
      exitCode: options.exitCode,
      git: await (options.git ?? gitInfo)(cwd).catch(() => null),
      host: options.host ?? hostInfo(),
      logbenchVersion: options.logbenchVersion,
      now: options.now?.() ?? new Date(),
      result,
      tags: options.tags,
    })
    let history
    try {
      history = await openHistory(location)
    } catch (error) {
      return warn(`${describeLocation(location)}: ${messageOf(error)}`)
    }

    try {
      const id = await history.add(record)
      return {id, location: history.location, recorded: true}
    } finally {
      await history.close().catch(() => {})
    }
  } catch (error) {
    return warn(messageOf(error))
  }
}

/**
 * A result file put into the history afterwards (`baseline set NAME FILE`):
 * recorded as it is, without a host or a commit (neither is known).
 */
export async function recordFile(history: HistoryStore, result: ResultDoc, options: {logbenchVersion: string; now?: Date}): Promise<string> {
  return history.add(buildRecord({command: 'import', git: null, host: null, logbenchVersion: options.logbenchVersion, now: options.now ?? new Date(), result}))
}
