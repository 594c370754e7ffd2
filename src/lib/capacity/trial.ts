/**
 * One capacity trial: a `parallel` session at a fixed open-model rate for the
 * warm-up and the trial, under a run id of its own, verified like `run`, and
 * judged on its own window (judge.ts). The endpoints (the target, and where
 * the trials are verified) are opened once for the whole search: without
 * --target that is one serve over the configured store, not one per trial.
 */
import type {ProfileOverrides, Store, StoreOptions} from '../store/index.js'
import type {Timeline} from '../load/measure/timeline.js'
import type {Spawner} from '../load/workers/spawn.js'
import type {CapacitySettings, Slo} from './options.js'
import type {Phase, TrialFunction} from './search.js'

import {environmentError} from '../errors.js'
import {parallelSession} from '../load/session/parallel-session.js'
import {startLocalStack} from '../load/session/stack.js'
import {describeStore} from '../store/index.js'
import {planVerification} from '../verify/plan.js'
import {judgeTrial, type TrialJudgement} from './judge.js'

export interface TrialRecord extends TrialJudgement {
  index: number
  /** Set once the search has placed the trial (bracket, bisect or confirm). */
  phase?: Phase
  runId: string
  /** When sending began (ISO-8601). */
  startedAt: string
  /** The whole trial, warm-up included (ms). */
  durationMs: number
  /** Why the trial's logs were not counted in storage, when they were not. */
  verificationNote?: string
  /** The trial over time, merged over its workers (the warm-up included, for the report). */
  timeline?: Timeline
}

export interface CapacityEndpoints {
  /** Where every trial sends. */
  target: URL
  /** Without --target: the serve of our own and its store, in words. */
  stack?: string
  /** The store the trials are verified in (and ClickHouse's view sampled from), when there is one. */
  store?: Store
  /** The trials count their stored rows (in a store, or through a logbench serve). */
  verified: boolean
  /** Why they do not, when they do not. */
  verificationNote?: string
  /** A store was named but its table cannot be verified (exit 5). */
  unverifiable: boolean
  close(): Promise<void>
}

export interface EndpointOptions {
  storeOptions: StoreOptions
  columns?: ProfileOverrides
  signal?: AbortSignal
  log?: (line: string) => void
  warn?: (line: string) => void
}

/** The target of every trial and where they are verified, opened once. */
export async function openCapacityEndpoints(settings: CapacitySettings, options: EndpointOptions): Promise<CapacityEndpoints> {
  const {load} = settings
  if (!load.target) {
    const stack = await startLocalStack(options.storeOptions, options.log)
    return {
      close: () => stack.close(),
      stack: `serve on ${stack.server.url} → ${describeStore({...stack.store.info, version: stack.store.info.version.text})}`,
      store: stack.store,
      target: stack.target,
      unverifiable: false,
      verificationNote: load.verify ? undefined : 'not verified (--no-verify)',
      verified: load.verify,
    }
  }

  if (!load.verify) return {close: async () => {}, target: load.target, unverifiable: false, verificationNote: 'not verified (--no-verify)', verified: false}
  const headers: Record<string, string> = load.headers.authorization ? {authorization: load.headers.authorization} : {}
  const plan = await planVerification({columns: options.columns, headers, signal: options.signal, storeOptions: options.storeOptions, target: load.target, warn: options.warn})
  return {
    close: plan.close,
    store: plan.store,
    target: load.target,
    unverifiable: plan.unverifiable,
    verificationNote: plan.note,
    verified: plan.counter !== undefined,
  }
}

export interface TrialRunnerOptions {
  settings: CapacitySettings
  endpoints: CapacityEndpoints
  /** The SLOs with logbench's defaults (withDefaultSlos). */
  slos: readonly Slo[]
  spawn: Spawner
  storeOptions: StoreOptions
  columns?: ProfileOverrides
  /** Each trial's run id is this, then -t and its index. */
  runIdBase: string
}

/** The trial function of the search: one parallel session per trial, judged on its window. */
export function trialRunner(options: TrialRunnerOptions): TrialFunction<TrialRecord> {
  const {endpoints, settings} = options
  return async (rate, index, signal) => {
    const runId = `${options.runIdBase}-t${String(index).padStart(2, '0')}`
    const outcome = await parallelSession({
      analyze: false,
      columns: options.columns,
      settings: {
        ...settings.load,
        // The warm-up is the open model's own: verified, left out of the trial's throughput and latency.
        durationMs: settings.trialMs,
        logs: undefined,
        rate,
        warmupMs: settings.warmupMs || undefined,
        runId,
        target: endpoints.target,
        thresholds: [],
        verify: endpoints.verified,
      },
      signal,
      spawn: options.spawn,
      store: endpoints.store,
      storeOptions: options.storeOptions,
    })
    const {result} = outcome
    if (outcome.unreachable) {
      throw environmentError(outcome.unreachable, 'start the ingest endpoint (e.g. "logbench serve"), check --target, or leave --target out to use an embedded serve')
    }

    const failed = result.workers.filter((w) => w.status === 'failed')
    if (failed.length === result.workers.length && result.logs.sent === 0) {
      throw new Error(`every worker failed before sending: ${failed[0]?.error ?? 'no result'}`)
    }

    const startedAtMs = Date.parse(result.startedAt)
    const judgement = judgeTrial(
      {
        clickhouse: result.clickhouse,
        endedAtMs: Date.parse(result.endedAt),
        offeredLogsPerSecond: rate,
        processes: settings.workers,
        scheduleEndMs: startedAtMs + settings.warmupMs + settings.trialMs,
        startedAtMs,
        timeline: result.timeline,
        verification: result.verification,
        warmupMs: settings.warmupMs,
        workerFailures: failed.map((w) => `worker ${w.index + 1} failed: ${w.error ?? 'no result'}`),
      },
      options.slos,
    )
    return {
      ...judgement,
      durationMs: result.durationMs,
      index,
      runId,
      startedAt: result.startedAt,
      timeline: result.timeline,
      verificationNote: result.verification ? undefined : (result.verificationNote ?? endpoints.verificationNote),
    }
  }
}
