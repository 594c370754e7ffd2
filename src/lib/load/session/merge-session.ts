/**
 * A whole `merge`: the results of workers that ran on several hosts, read from
 * their files, aggregated exactly as `parallel` aggregates, verified once where
 * a store (or the serve they all sent to) can count, checked and diagnosed.
 */
import type {ProfileOverrides, StoreOptions} from '../../store/index.js'
import type {CheckVerdict} from '../checks/checks.js'
import type {AggregateResult, Threshold} from '../result/types.js'

import {planVerification} from '../../verify/plan.js'
import {verifyRun} from '../../verify/verify.js'
import {applyChecks} from '../checks/checks.js'
import {assess} from '../result/aggregate.js'
import {bottleneckOf} from '../result/diagnose.js'
import {coarsenResult, loadResults, mergeResults} from '../result/merge.js'

export interface MergeSessionOptions {
  files: readonly string[]
  thresholds: readonly Threshold[]
  verify: boolean
  verifyWaitMs: number
  /** Coarsen the merged timeline to this interval, ms. */
  intervalMs?: number
  storeOptions: StoreOptions
  columns?: ProfileOverrides
  /** Headers for a serve's verification endpoint (its bearer token). */
  headers?: Record<string, string>
  signal?: AbortSignal
  warn?: (line: string) => void
}

export interface MergeOutcome {
  result: AggregateResult
  verdict: CheckVerdict
  verificationNote?: string
  store?: {version: string; table: string}
}

/** The target every worker sent to, when they all sent to one origin (a serve that can verify for them). */
function commonTarget(result: AggregateResult): URL | undefined {
  const origins = new Set(result.workers.flatMap((w) => (w.result && URL.canParse(w.result.config.target) ? [new URL(w.result.config.target).origin] : [])))
  const [origin] = origins
  return origins.size === 1 ? new URL(origin) : undefined
}

export async function mergeSession(options: MergeSessionOptions): Promise<MergeOutcome> {
  const plan = mergeResults(await loadResults(options.files))
  for (const warning of plan.warnings) options.warn?.(warning)
  const {result} = plan
  const {signal} = options
  let note = plan.verifyNote
  if (!note && !options.verify) note = 'not verified (--no-verify)'
  const verification =
    options.verify && plan.verifiable
      ? await planVerification({columns: options.columns, headers: options.headers, signal, storeOptions: options.storeOptions, target: commonTarget(result), warn: options.warn})
      : undefined
  note ??= verification?.note
  const info = verification?.store?.info
  let verdict: CheckVerdict
  try {
    const counter = verification?.counter
    verdict = await applyChecks(result, {
      batchSize: plan.verifiable?.batchSize ?? 0,
      failedWorkers: result.workersFailed,
      thresholds: options.thresholds,
      unverifiable: verification?.unverifiable ? verification.note : undefined,
      verify: counter ? (input) => verifyRun(counter, {...input, lastAckAtMs: Date.parse(result.endedAt)}, {signal, waitMs: options.verifyWaitMs}) : undefined,
      workers: plan.verifiable?.workers ?? 1,
    })
  } finally {
    await verification?.close()
  }

  if (verdict.unverified) note = verdict.unverified
  if (note && !result.verification) result.verificationNote = note
  result.assessment = assess(result)
  if (options.intervalMs !== undefined) coarsenResult(result, options.intervalMs)
  result.bottleneck = bottleneckOf(result)
  return {result, store: info ? {table: `${info.database}.${info.table}`, version: info.version.text} : undefined, verdict, verificationNote: note}
}
