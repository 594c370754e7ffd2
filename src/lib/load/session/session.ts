/**
 * A whole `run` or `parallel`, independent of the CLI: choose the target (the
 * given one, or a serve of our own over the configured store), send, stop the
 * serve so everything is flushed, verify against storage, apply thresholds and
 * analyse. The commands only parse flags, call these and render.
 */
import type {AnalysisResult} from '../../analyze/index.js'
import type {ProfileOverrides, Store, StoreOptions} from '../../store/index.js'
import type {AggregateResult, RunResult} from '../result/types.js'
import type {ProgressSnapshot, WorkerSlot} from '../send/sender.js'
import type {Spawner} from '../workers/spawn.js'
import type {WorkerEvent} from '../workers/events.js'

import {usageError} from '../../errors.js'
import {analyze, parseReportOptions} from '../../analyze/index.js'
import {assess, buildAggregate} from '../result/aggregate.js'
import {type RunWatch, watchRun} from '../measure/observer.js'
import {applyChecks, type CheckVerdict} from '../checks/checks.js'
import {type LoadSettings, workerRunArgs} from '../settings.js'
import {runParallel, splitExactly} from '../workers/parallel.js'
import {type LocalStack, startLocalStack} from './stack.js'
import {planVerification} from '../../verify/plan.js'
import {profileSql} from '../../store/index.js'
import {openStoreCounter, type RunCounter, verifyRun} from '../../verify/verify.js'
import {runWorker, type WorkerDeps} from './worker.js'

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

interface Endpoints {
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

function describeStack(stack: LocalStack): string {
  const {info} = stack.store
  const where = info.kind === 'embedded' ? `embedded engine (chDB, ClickHouse ${info.version.text}) in ${info.location}` : `ClickHouse ${info.version.text} at ${info.location}`
  return `serve on ${stack.server.url} → ${where}, table ${info.database}.${info.table}`
}

async function openEndpoints(base: SessionBase): Promise<Endpoints> {
  const {settings} = base
  if (!settings.target) {
    const stack = await startLocalStack(base.storeOptions, base.log)
    return {
      close: () => stack.close(),
      counter: settings.verify ? await openStoreCounter(stack.store) : undefined,
      description: describeStack(stack),
      stack,
      target: stack.target,
      verificationNote: settings.verify ? undefined : 'not verified (--no-verify)',
    }
  }

  const target = settings.target
  if (!settings.verify) return {close: async () => {}, target, verificationNote: 'not verified (--no-verify)'}
  const headers: Record<string, string> = settings.headers.authorization ? {authorization: settings.headers.authorization} : {}
  const plan = await planVerification({columns: base.columns, headers, signal: base.signal, store: base.store, storeOptions: base.storeOptions, target, warn: base.warn})
  return {close: plan.close, counter: plan.counter, store: plan.store, target, unverifiable: plan.unverifiable, verificationNote: plan.note}
}

/**
 * A run verifies the rows of its run id, so the id must be new: rows left by an earlier run with
 * the same id (and the same seed, the same seqs) would read as duplicates. Checked where this
 * process verifies the whole run, before anything is sent.
 */
async function assertFreshRunId(endpoints: Endpoints, runId: string): Promise<void> {
  const counter = endpoints.counter
  if (!counter) return
  const rows = await counter.rowsOfRun(runId)
  if (rows > 0) {
    throw usageError(
      `run id ${runId} already has ${rows.toLocaleString('en-US')} rows in ${counter.where}`,
      `choose another --run-id (or leave it out for a fresh one), or remove those rows with "logbench cleanup --run-id ${runId} --yes"`,
    )
  }
}

/** Sample ClickHouse and our own serve while the load runs (see measure/watch.ts). */
function watchEndpoints(endpoints: Endpoints, base: SessionBase): RunWatch {
  const store = endpoints.stack?.store ?? endpoints.store
  return watchRun({
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

async function finish(
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

export interface RunSessionOptions extends SessionBase {
  logs?: number
  worker: WorkerSlot
  progressIntervalMs?: number
  onProgress?: (snapshot: ProgressSnapshot) => void
  /** Called once the target is known, before sending; resolve false to send nothing (the barrier was not released). */
  beforeSend?: (target: URL) => Promise<boolean>
  /** Called when sending is over, before verification. */
  onSent?: (result: RunResult) => void
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
}

export async function runSession(options: RunSessionOptions, deps: WorkerDeps = {}): Promise<SessionOutcome<RunResult> | undefined> {
  const {settings} = options
  const endpoints = await openEndpoints(options)
  try {
    // A worker among several shares its run id with the others: only a whole run checks it.
    if (options.worker.count === 1) await assertFreshRunId(endpoints, settings.runId)
    if (options.beforeSend && !(await options.beforeSend(endpoints.target))) return undefined
    const watch = options.worker.count === 1 ? watchEndpoints(endpoints, options) : undefined
    await watch?.ready
    const result = await runWorker(
      {
        apps: settings.apps,
        batchSize: settings.batchSize,
        concurrency: settings.concurrency,
        durationMs: settings.durationMs,
        errorRate: settings.errorRate,
        headers: settings.headers,
        intervalMs: settings.intervalMs,
        logs: options.logs,
        maxInFlight: settings.maxInFlight,
        onProgress: options.onProgress,
        payload: settings.payload,
        progressIntervalMs: options.progressIntervalMs,
        protocol: settings.protocol,
        rate: settings.rate,
        retries: settings.retries,
        runId: settings.runId,
        seed: settings.seed,
        signal: options.signal,
        target: endpoints.target,
        template: settings.template,
        timeoutMs: settings.timeoutMs,
        worker: options.worker,
      },
      deps,
    )
    await watch?.stop()
    if (endpoints.stack) result.resources.sharedWithServe = true
    options.onSent?.(result)
    const unreachable =
      result.stopReason === 'unreachable'
        ? `cannot reach ${endpoints.target.href} (${Object.values(result.errors.samples)[0] ?? 'connection refused'})`
        : undefined
    const {analysis, verdict} = unreachable
      ? {analysis: undefined, verdict: {failed: true, reasons: [unreachable]}}
      : await finish(result, endpoints, options, {failedWorkers: 0, workers: options.worker.count})
    await watch?.complete(result)
    return {analysis, result, stack: endpoints.description, unreachable, verdict, verificationNote: result.verificationNote ?? endpoints.verificationNote}
  } finally {
    await endpoints.close()
  }
}

export interface ParallelSessionOptions extends SessionBase {
  workers: number
  /** Logs of every worker, or in total (split exactly). */
  logsPerWorker?: number
  totalLogs?: number
  spawn: Spawner
  graceMs?: number
  onEvent?: (worker: number, event: WorkerEvent) => void
  onStart?: (worker: number, pid: number | undefined) => void
  onExit?: (worker: number, report: AggregateResult['workers'][number]) => void
  /** Called once the target is known, before workers start. */
  onTarget?: (target: URL, description?: string) => void
}

export async function parallelSession(options: ParallelSessionOptions): Promise<SessionOutcome<AggregateResult>> {
  const {settings, workers} = options
  const logsPerWorker =
    options.logsPerWorker === undefined ? (options.totalLogs === undefined ? undefined : splitExactly(options.totalLogs, workers)) : Array.from({length: workers}, () => options.logsPerWorker!)
  const ratePerWorker = settings.rate === undefined ? undefined : splitExactly(settings.rate, workers)
  if (ratePerWorker?.some((rate) => rate === 0)) {
    throw usageError(`--rate ${settings.rate} is less than one log per second for each of ${workers} workers`, 'raise --rate or use fewer --workers')
  }

  const endpoints = await openEndpoints(options)
  try {
    await assertFreshRunId(endpoints, settings.runId)
    options.onTarget?.(endpoints.target, endpoints.description)
    const watch = watchEndpoints(endpoints, options)
    await watch.ready
    const outcome = await runParallel({
      commonArgs: workerRunArgs(settings, endpoints.target),
      graceMs: options.graceMs,
      logsPerWorker,
      onEvent: options.onEvent,
      onExit: options.onExit,
      onStart: options.onStart,
      ratePerWorker,
      signal: options.signal,
      spawn: options.spawn,
      workers,
    })
    await watch.stop()
    const result = buildAggregate('parallel', settings.runId, outcome.workers, {interrupted: outcome.interrupted})
    const failedWorkers = result.workersFailed
    const unreachableWorkers = outcome.workers.filter((w) => w.result?.stopReason === 'unreachable')
    const unreachable =
      unreachableWorkers.length === workers ? `no worker could reach ${endpoints.target.href} (${Object.values(unreachableWorkers[0].result!.errors.samples)[0] ?? 'refused'})` : undefined
    if (unreachable) return {result, stack: endpoints.description, unreachable, verdict: {failed: true, reasons: [unreachable]}}
    const {analysis, verdict} = await finish(result, endpoints, options, {failedWorkers, workers})
    await watch.complete(result)
    // Verification can change the verdict of the run.
    result.assessment = assess(result)
    return {analysis, result, stack: endpoints.description, verdict, verificationNote: result.verificationNote ?? endpoints.verificationNote}
  } finally {
    await endpoints.close()
  }
}
