/**
 * `merge`: results of `run --json` (or `parallel --json`) written on several
 * hosts, combined with the same aggregation as `parallel`.
 */
import {readFile} from 'node:fs/promises'

import type {AggregateResult, RunResult, WorkerReport} from './types.js'

import {usageError} from '../../errors.js'
import {parseResultDocument} from './read.js'
import {buildAggregate, workerReport} from './aggregate.js'
import {coarsen} from '../measure/timeline.js'

export interface LoadedResult {
  file: string
  result: RunResult
}

function isRunResult(value: unknown): value is RunResult {
  const r = value as RunResult
  return Boolean(r && r.kind === 'run' && typeof r.runId === 'string' && r.latency && typeof r.latency.histogram === 'string' && r.logs && r.config)
}

/** The run results in one file: a `run --json` document, or the workers of a `parallel`/`merge` one. */
export function resultsIn(file: string, text: string): RunResult[] {
  const doc: RunResult | AggregateResult = parseResultDocument(file, text)
  if (isRunResult(doc)) return [doc]
  if ((doc as {kind: string}).kind !== 'run') {
    const results = (doc as AggregateResult).workers.map((w) => w.result).filter((r): r is RunResult => isRunResult(r))
    if (results.length > 0) return results
  }

  throw usageError(`${file} is not a logbench result`, 'give files written by "logbench run --json" or "logbench parallel --json" (with their latency histograms)')
}

export async function loadResults(files: readonly string[], read: (file: string) => Promise<string> = (file) => readFile(file, 'utf8')): Promise<LoadedResult[]> {
  if (files.length === 0) throw usageError('no result files given', 'example: logbench merge results/*.json')
  const loaded: LoadedResult[] = []
  for (const file of files) {
    let text: string
    try {
      text = await read(file)
    } catch (error) {
      throw usageError(`cannot read ${file}: ${(error as Error).message}`)
    }

    for (const result of resultsIn(file, text)) loaded.push({file, result})
  }

  const seen = new Map<string, string>()
  for (const {file, result} of loaded) {
    const key = `${result.runId}/${result.config.worker.index}/${result.config.worker.count}/${result.host}/${result.pid}/${result.startedAt}`
    const other = seen.get(key)
    if (other) throw usageError(`${file} and ${other} hold the same worker result (run ${result.runId}, worker ${result.config.worker.index + 1})`, 'give each result once')
    seen.set(key, file)
  }

  return loaded
}

export interface MergePlan {
  result: AggregateResult
  /** Verification is exact only for one run id with one worker count and batch size. */
  verifiable: {workers: number; batchSize: number} | undefined
  /** Why the results cannot be verified together. */
  verifyNote?: string
  warnings: string[]
}

export function mergeResults(loaded: readonly LoadedResult[]): MergePlan {
  const results = loaded.map((l) => l.result)
  const runIds = [...new Set(results.map((r) => r.runId))]
  const warnings: string[] = []
  if (runIds.length > 1) warnings.push(`the results come from ${runIds.length} different runs (${runIds.join(', ')}); they are merged all the same`)
  // Worker indexes as the workers numbered themselves, when they are distinct; file order otherwise.
  const indexes = results.map((r) => r.config.worker.index)
  const distinct = new Set(indexes).size === indexes.length
  const order = results.map((_, i) => i).sort((a, b) => (distinct ? indexes[a] - indexes[b] : a - b))
  const workers: WorkerReport[] = order.map((i, position) => {
    const r = results[i]
    const status = r.stopReason === 'unreachable' ? 'failed' : r.interrupted ? 'interrupted' : 'ok'
    return workerReport(distinct ? r.config.worker.index : position, r, {
      error: r.stopReason === 'unreachable' ? `could not reach ${r.config.target}` : undefined,
      pid: r.pid,
      status,
    })
  })
  const sources = [...new Set(loaded.map((l) => l.file))]
  const result = buildAggregate('merge', runIds.length === 1 ? runIds[0] : runIds.join(','), workers, {
    interrupted: results.some((r) => r.interrupted),
    sources,
  })
  const counts = new Set(results.map((r) => r.config.worker.count))
  const sizes = new Set(results.map((r) => r.config.batchSize))
  let verifiable: MergePlan['verifiable']
  let verifyNote: string | undefined
  if (runIds.length !== 1) verifyNote = 'not verified: the results belong to different run ids'
  else if (counts.size !== 1 || sizes.size !== 1) verifyNote = 'not verified: the results disagree on --worker-count or --batch-size'
  else {
    verifiable = {batchSize: [...sizes][0], workers: [...counts][0]}
    const expected = [...counts][0]
    if (results.length !== expected) warnings.push(`${results.length} results for a run of --worker-count ${expected}: the logs of missing workers count as not sent`)
  }

  return {result, verifiable, verifyNote, warnings}
}

/** `merge --interval`: the merged timeline at a coarser interval, a multiple of the workers' (exact). */
export function coarsenResult(result: AggregateResult, intervalMs: number): void {
  const timeline = result.timeline
  if (!timeline || intervalMs === timeline.intervalMs) return
  if (intervalMs % timeline.intervalMs !== 0) {
    throw usageError(`--interval ${intervalMs} ms is not a multiple of the merged timeline's ${timeline.intervalMs} ms`, `give a multiple of ${timeline.intervalMs} ms`)
  }

  result.timeline = coarsen(timeline, intervalMs)
}
