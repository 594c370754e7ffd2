/**
 * Reading a saved result document: the `--json` of run, parallel or merge,
 * checked enough to render, merge or compare. The one reader of result files.
 */
import {readFile} from 'node:fs/promises'

import type {AggregateResult, RunResult} from './types.js'

import {usageError} from '../../errors.js'

/** A result document of run, parallel or merge (`--json`), checked enough to render. */
export function parseResultDocument(file: string, text: string): RunResult | AggregateResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw usageError(`${file} is not JSON (${(error as Error).message})`, 'give a file written by "logbench run --json", "parallel --json" or "merge --json"')
  }

  const doc = value as Partial<RunResult | AggregateResult> & {error?: {message?: string}}
  if (doc?.error && !doc.kind) throw usageError(`${file} holds an error, not a result: ${JSON.stringify(doc.error.message)}`)
  const known = doc && (doc.kind === 'run' || doc.kind === 'parallel' || doc.kind === 'merge')
  if (!known || !doc.logs || !doc.latency || !doc.config || typeof doc.runId !== 'string') {
    throw usageError(`${file} is not a logbench result`, 'give a file written by "logbench run --json", "parallel --json" or "merge --json"')
  }

  if (doc.kind !== 'run' && !Array.isArray((doc as AggregateResult).workers)) throw usageError(`${file} is a ${doc.kind} result without its workers`)
  return doc as RunResult | AggregateResult
}

export async function readResultDocument(file: string): Promise<RunResult | AggregateResult> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw usageError(`cannot read ${file}: ${(error as Error).message}`)
  }

  return parseResultDocument(file, text)
}
