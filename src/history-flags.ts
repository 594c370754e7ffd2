/**
 * Flags of the history of runs. `recordFlags` go on every command that records
 * its result (run, parallel, merge, capacity); `historyUrlFlag` on those that
 * read the history (runs, baseline, compare, report --compare).
 */
import {Flags} from '@oclif/core'

import type {EnvConfig} from './lib/config.js'

import {historyLocation, type HistoryLocation} from './lib/history/index.js'

export const historyUrlFlag = {
  'history-url': Flags.string({
    description:
      'where the history of runs is: a ClickHouse server (http://HOST:8123: a "logbench" database, created when missing), embedded:DIR (the embedded engine in a data directory of its own) or file:DIR (env LOGBENCH_HISTORY_URL) [default: .logbench/history in the working directory]',
    helpGroup: 'HISTORY',
  }),
}

export const recordFlags = {
  history: Flags.boolean({allowNo: true, default: true, description: 'record the result in the history of runs (--no-history: do not)', helpGroup: 'HISTORY'}),
  ...historyUrlFlag,
  tag: Flags.string({
    description: 'a tag recorded with the result, key=value (repeatable), e.g. --tag branch=main; "logbench runs --tag" lists by it',
    helpGroup: 'HISTORY',
    multiple: true,
    multipleNonGreedy: true,
  }),
}

/** Where the history is: --history-url, else LOGBENCH_HISTORY_URL, else .logbench/history here. */
export function historyLocationOf(flags: {'history-url'?: string}, env: Pick<EnvConfig, 'historyUrl'>, cwd = process.cwd()): HistoryLocation {
  return historyLocation({cwd, historyUrl: flags['history-url'] ?? env.historyUrl})
}
