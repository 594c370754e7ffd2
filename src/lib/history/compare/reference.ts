/**
 * What BASE and CONTENDER name: a run id of the history (or a unique start of
 * one), `@last`, `@prev` (the run before it), `baseline:NAME`, or the path of a
 * result file, so compare works with no history at all. Several, separated by
 * commas, make one side of several runs. The history is opened only when a
 * reference needs it.
 */
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import type {ResultDoc} from '../document.js'
import type {RecordSummary} from '../record/record.js'
import type {HistoryStore} from '../store/types.js'

import {usageError} from '../../errors.js'
import {parseResultText} from '../document.js'
import {assertBaselineName} from '../store/types.js'

export interface LoadedRun {
  /** The reference as typed. */
  ref: string
  /** How to name it: the record's id, or the file's path. */
  label: string
  source: 'history' | 'file'
  result: ResultDoc
  record?: RecordSummary
}

export interface ResolveContext {
  cwd: string
  /** Opens the history (once) when a reference needs it. */
  history(): Promise<HistoryStore>
}

const looksLikePath = (text: string) => /[/\\]/.test(text) || /\.json$/i.test(text)

async function fromHistory(ref: string, summary: RecordSummary, history: HistoryStore): Promise<LoadedRun> {
  const record = await history.get(summary.id)
  if (!record) throw usageError(`run ${summary.id} is listed in the history at ${history.location} but its record cannot be read`, 'record the run again, or compare its result file')
  const {argv: _argv, result, ...meta} = record
  return {label: record.id, record: meta, ref, result, source: 'history'}
}

async function fromFile(ref: string, file: string): Promise<LoadedRun> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw usageError(`cannot read ${ref}: ${(error as Error).message}`, 'give a result file written by "logbench run --json", or a run id from "logbench runs"')
  }

  return {label: ref, ref, result: parseResultText(text, ref), source: 'file'}
}

/** One reference. Unknown ids, missing baselines and files that are not results are usage errors (exit 2). */
export async function resolveReference(ref: string, context: ResolveContext): Promise<LoadedRun> {
  const text = ref.trim()
  if (text === '') throw usageError('an empty run reference', 'give a run id, @last, @prev, baseline:NAME or a result file')
  if (text === '@last' || text === '@prev') {
    const history = await context.history()
    const latest = await history.list({limit: 2})
    const wanted = text === '@last' ? 0 : 1
    if (latest.length <= wanted) {
      throw usageError(
        `${text} needs ${wanted + 1} recorded run${wanted === 0 ? '' : 's'}, and the history at ${history.location} holds ${latest.length}`,
        'record runs first (run, parallel, merge and capacity record themselves), or compare result files',
      )
    }

    return fromHistory(text, latest[wanted], history)
  }

  if (text.startsWith('@')) throw usageError(`"${text}" is not a run reference`, 'the named references are @last and @prev')
  if (text.startsWith('baseline:')) {
    const name = assertBaselineName(text.slice('baseline:'.length))
    const history = await context.history()
    const baseline = await history.baseline(name)
    if (!baseline) {
      const names = (await history.baselines()).map((b) => b.name)
      throw usageError(`no baseline "${name}" in the history at ${history.location}`, names.length > 0 ? `baselines: ${names.join(', ')}` : 'set one with "logbench baseline set NAME RUN"')
    }

    const [summary] = await history.match(baseline.id)
    if (!summary || summary.id !== baseline.id) throw usageError(`baseline ${name} names run ${baseline.id}, which is not in the history at ${history.location} any more`, `set it again with "logbench baseline set ${name} RUN"`)
    return fromHistory(text, summary, history)
  }

  const file = path.resolve(context.cwd, text)
  if (existsSync(file)) return fromFile(text, file)
  if (looksLikePath(text)) return fromFile(text, file)
  const history = await context.history()
  const matches = await history.match(text)
  if (matches.length === 0) {
    throw usageError(`no run "${text}" in the history at ${history.location}, and no such file`, 'list the runs with "logbench runs", or give the path of a result file')
  }

  if (matches.length > 1) {
    throw usageError(`"${text}" names ${matches.length} runs: ${matches.slice(0, 5).map((m) => m.id).join(', ')}${matches.length > 5 ? ', …' : ''}`, 'give the full id of one (see "logbench runs")')
  }

  return fromHistory(text, matches[0], history)
}

/** One side: a reference, or several separated by commas (a file whose name has a comma is taken whole). */
export async function resolveSide(text: string, context: ResolveContext): Promise<LoadedRun[]> {
  const refs = existsSync(path.resolve(context.cwd, text)) ? [text] : text.split(',').filter((part) => part.trim() !== '')
  if (refs.length === 0) throw usageError(`"${text}" names no run`, 'give a run id, @last, @prev, baseline:NAME or a result file')
  const runs: LoadedRun[] = []
  for (const ref of refs) runs.push(await resolveReference(ref, context))
  return runs
}

/** A context whose history is opened on first use and closed by `close()`. */
export function lazyHistory(open: () => Promise<HistoryStore>): {history: () => Promise<HistoryStore>; close: () => Promise<void>} {
  let opened: Promise<HistoryStore> | undefined
  return {
    async close() {
      if (opened) await (await opened.catch(() => undefined))?.close()
    },
    history() {
      opened ??= open()
      return opened
    },
  }
}
