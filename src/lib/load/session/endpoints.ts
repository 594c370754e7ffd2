/**
 * Where a run sends and where it verifies: the given target, or a serve of
 * logbench's own over the configured store (zero set-up); the store or serve
 * that counts the stored rows; ClickHouse's own view during the run; and the
 * checks once sending is over (serve stopped so everything is flushed, then
 * verification, thresholds and the short analysis).
 */
import type {AnalysisResult} from '../../analyze/index.js'
import type {ProfileOverrides, Store, StoreOptions} from '../../store/index.js'
import type {RunCounter} from '../../verify/verify.js'
import type {CheckVerdict} from '../checks/checks.js'
import type {AggregateResult, RunResult} from '../result/types.js'
import type {LoadSettings} from '../settings.js'

import {analyze, parseReportOptions} from '../../analyze/index.js'
import {usageError} from '../../errors.js'
import {describeStore, profileSql} from '../../store/index.js'
import {planVerification} from '../../verify/plan.js'
import {openStoreCounter, verifyRun} from '../../verify/verify.js'
import {applyChecks} from '../checks/checks.js'
import {observeRun, type RunObserver} from './observer.js'
import {type LocalStack, startLocalStack} from './stack.js'
import {int} from '../../format/units.js'

export interface SessionBase {
  settings: LoadSettings
  /** Where a zero set-up run stores, and where a run with --target verifies (when a server URL is configured). */
  storeOptions: StoreOptions
  /** --column overrides: where the run id and seq live in the table that is verified. */
  columns?: ProfileOverrides
  /** A store already open (the embedded engine is held by one process): verify there instead of opening one. */
  store?: Store
  signal?: AbortSignal
  /** serve's diagnostics. */
  log?: (line: string) => void
  /** Warnings for people, e.g. that verification will not be possible (stderr). */
  warn?: (line: string) => void
  /** Run the short analysis (total, apps, levels) after a zero set-up run. */
  analyze?: boolean
}

export interface Endpoints {
  target: URL
  stack?: LocalStack
  /** Counts the stored rows of the run, when verification is possible and wanted. */
  counter?: RunCounter
  /** Words for the report: where the logs went. */
  description?: string
  /** Why there is no verification, when there is none. */
  verificationNote?: string
  /** Verification was asked for (a store or serve to count in) but cannot run: the run ends with exit 5. */
  unverifiable?: boolean
  /** The store the user named, when there is one. */
  store?: Store
  close(): Promise<void>
}

export interface SessionOutcome<R> {
  result: R
  verdict: CheckVerdict
  analysis?: AnalysisResult
  /** Where the logs went (zero set-up). */
  stack?: string
  verificationNote?: string
  /** The run could not reach its target at all. */
  unreachable?: string
  /** The store the logs went to (zero set-up) or were verified in, for the history. */
  store?: {version: string; table: string}
}

/** The store of the endpoints, in the history's words. */
export function storeOf(endpoints: Endpoints): SessionOutcome<unknown>['store'] {
  const info = (endpoints.stack?.store ?? endpoints.store)?.info
  return info ? {table: `${info.database}.${info.table}`, version: info.version.text} : undefined
}

const NOT_VERIFIED = 'not verified (--no-verify)'

export async function openEndpoints(base: SessionBase): Promise<Endpoints> {
  const {settings} = base
  if (!settings.target) {
    const stack = await startLocalStack(base.storeOptions, base.log)
    return {
      close: () => stack.close(),
      counter: settings.verify ? await openStoreCounter(stack.store) : undefined,
      description: `serve on ${stack.server.url} → ${describeStore({...stack.store.info, version: stack.store.info.version.text})}`,
      stack,
      target: stack.target,
      verificationNote: settings.verify ? undefined : NOT_VERIFIED,
    }
  }

  const target = settings.target
  if (!settings.verify) return {close: async () => {}, target, verificationNote: NOT_VERIFIED}
  const headers: Record<string, string> = settings.headers.authorization ? {authorization: settings.headers.authorization} : {}
  const plan = await planVerification({columns: base.columns, headers, signal: base.signal, store: base.store, storeOptions: base.storeOptions, target, warn: base.warn})
  return {close: plan.close, counter: plan.counter, store: plan.store, target, unverifiable: plan.unverifiable, verificationNote: plan.note}
}

/**
 * A run verifies the rows of its run id, so the id must be new: rows left by an earlier run with
 * the same id (and the same seed, the same seqs) would read as duplicates. Checked where this
 * process verifies the whole run, before anything is sent.
 */
export async function assertFreshRunId(endpoints: Endpoints, runId: string): Promise<void> {
  const counter = endpoints.counter
  if (!counter) return
  const rows = await counter.rowsOfRun(runId)
  if (rows > 0) {
    throw usageError(
      `run id ${runId} already has ${int(rows)} rows in ${counter.where}`,
      `choose another --run-id (or leave it out for a fresh one), or remove those rows with "logbench cleanup --run-id ${runId} --yes"`,
    )
  }
}

/** Sample ClickHouse and our own serve while the load runs (see measure/observer.ts). */
export function observeEndpoints(endpoints: Endpoints, base: SessionBase): RunObserver {
  const store = endpoints.stack?.store ?? endpoints.store
  return observeRun({
    intervalMs: base.settings.intervalMs,
    serveMetrics: endpoints.stack ? new URL('/metrics', endpoints.stack.server.url) : undefined,
    store,
    // The stored rate reads the table through its profile: its ingest time and run id.
    storedColumns: store
      ? async () => {
          const sql = await profileSql(store, base.columns)
          return sql.has('ingest_time') && sql.has('run_id') ? {ingestTime: sql.expr('ingest_time'), runId: sql.expr('run_id')} : undefined
        }
      : undefined,
  })
}

/** When the last acknowledgement arrived: the end of sending, of the latest worker. */
function lastAckAt(result: RunResult | AggregateResult): number | undefined {
  const ms = Date.parse(result.endedAt)
  return Number.isFinite(ms) ? ms : undefined
}

/** The run could not reach its target at all: why, in words (the first error the sender kept). */
export function unreachableReason(target: URL, results: readonly RunResult[], workers: number): string | undefined {
  const unreachable = results.filter((r) => r.stopReason === 'unreachable')
  if (unreachable.length === 0 || unreachable.length < workers) return undefined
  const why = Object.values(unreachable[0].errors.samples)[0] ?? 'connection refused'
  return workers === 1 ? `cannot reach ${target.href} (${why})` : `no worker could reach ${target.href} (${why})`
}

export async function finish(
  result: RunResult | AggregateResult,
  endpoints: Endpoints,
  base: SessionBase,
  plan: {workers: number; failedWorkers: number},
): Promise<{verdict: CheckVerdict; analysis?: AnalysisResult}> {
  // Everything acknowledged is committed once serve has stopped.
  await endpoints.stack?.stopServer()
  const {counter} = endpoints
  const verdict = await applyChecks(result, {
    batchSize: base.settings.batchSize,
    failedWorkers: plan.failedWorkers,
    thresholds: base.settings.thresholds,
    unverifiable: endpoints.unverifiable ? endpoints.verificationNote : undefined,
    verify: counter ? (input) => verifyRun(counter, {...input, lastAckAtMs: lastAckAt(result)}, {signal: base.signal, waitMs: base.settings.verifyWaitMs}) : undefined,
    workers: plan.workers,
  })
  if (verdict.unverified) result.verificationNote = verdict.unverified
  else if (!result.verification && endpoints.verificationNote) result.verificationNote = endpoints.verificationNote
  // The reports of "logbench analyze" (total, apps, levels), for this run's rows.
  const analysis =
    base.analyze && endpoints.stack && result.logs.acked > 0
      ? await analyze(endpoints.stack.store, ['total', 'apps', 'levels'], parseReportOptions({runIds: [result.runId]}))
      : undefined
  return {analysis, verdict}
}
