/**
 * A whole capacity search, independent of the CLI: open the endpoints once
 * (the target, or a serve of our own), add logbench's default SLOs, search
 * with one parallel session per trial, close, and build the document.
 */
import type {ProfileOverrides, StoreOptions} from '../store/index.js'
import type {Spawner} from '../load/workers/spawn.js'
import type {CapacitySettings} from './options.js'
import type {CapacityConfig, CapacityResult} from './result.js'
import type {Phase, SearchClock, SearchStep} from './search.js'
import type {TrialRecord} from './trial.js'

import {ExitCode, LogbenchError, messageOf} from '../errors.js'
import {newRunId} from '../load/settings.js'
import {withDefaultSlos} from './options.js'
import {CAPACITY_VERSION, headline} from './result.js'
import {searchCapacity} from './search.js'
import {openCapacityEndpoints, trialRunner} from './trial.js'

export interface CapacitySessionOptions {
  settings: CapacitySettings
  storeOptions: StoreOptions
  columns?: ProfileOverrides
  spawn: Spawner
  signal?: AbortSignal
  clock?: SearchClock
  /** serve's diagnostics (zero set-up). */
  log?: (line: string) => void
  warn?: (line: string) => void
  /** Once the endpoints are open: where the trials go, and the SLOs they are judged by. */
  onReady?: (info: {target: URL; stack?: string; verificationNote?: string; slos: CapacityConfig['slos']}) => void
  onTrialStart?: (index: number, phase: Phase, rate: number) => void
  onTrial?: (step: SearchStep<TrialRecord>) => void
  onNote?: (note: string) => void
}

export async function capacitySession(options: CapacitySessionOptions): Promise<CapacityResult> {
  const {settings} = options
  const startedAt = new Date()
  const endpoints = await openCapacityEndpoints(settings, options)
  let search
  let slos
  try {
    slos = withDefaultSlos(settings.slos, endpoints.verified)
    if (settings.load.verify && !endpoints.verified && endpoints.verificationNote) options.warn?.(`durability is not judged: ${endpoints.verificationNote}`)
    options.onReady?.({
      slos: slos.map((slo) => ({expression: slo.threshold.expression, implicit: slo.implicit === true, reason: slo.reason})),
      stack: endpoints.stack,
      target: endpoints.target,
      verificationNote: endpoints.verificationNote,
    })
    search = await searchCapacity({
      budgetMs: settings.budgetMs,
      clock: options.clock,
      max: settings.maxLogsPerSecond,
      onNote: options.onNote,
      onStart: options.onTrialStart,
      onStep: options.onTrial,
      precision: settings.precision,
      signal: options.signal,
      start: settings.startLogsPerSecond,
      trial: trialRunner({columns: options.columns, endpoints, runIdBase: newRunId(startedAt).replace(/^run-/, 'cap-'), settings, slos, spawn: options.spawn, storeOptions: options.storeOptions}),
      trialEstimateMs: settings.warmupMs + settings.trialMs,
    })
  } finally {
    await endpoints.close()
  }

  const {load} = settings
  const config: CapacityConfig = {
    batchSize: load.batchSize,
    budgetMs: settings.budgetMs ?? null,
    intervalMs: load.intervalMs,
    maxInFlight: load.maxInFlight,
    maxLogsPerSecond: settings.maxLogsPerSecond ?? null,
    payload: load.payload,
    precision: settings.precision,
    protocol: load.protocol.name,
    retries: load.retries,
    seed: load.seed,
    slos: slos.map((slo) => ({expression: slo.threshold.expression, implicit: slo.implicit === true, reason: slo.reason})),
    startLogsPerSecond: settings.startLogsPerSecond,
    target: endpoints.target.href,
    timeoutMs: load.timeoutMs,
    trialMs: settings.trialMs,
    verify: endpoints.verified,
    verifyWaitMs: load.verifyWaitMs,
    warmupMs: settings.warmupMs,
    workers: settings.workers,
  }
  const trials = search.steps.map((step) => ({...step.trial, index: step.index, phase: step.phase}))
  const endedAt = new Date()
  const partial = {
    config,
    maxSustainable: {
      aboveMax: search.outcome === 'above-max',
      limitedBy: search.limitedBy,
      logsPerSecond: search.maximum,
      lowestFailingLogsPerSecond: search.lowestFailing,
    },
    outcome: search.outcome,
    trials,
  }
  return {
    ...partial,
    durationMs: endedAt.getTime() - startedAt.getTime(),
    endedAt: endedAt.toISOString(),
    error: search.outcome === 'error' ? errorOf(search.error) : undefined,
    headline: headline(partial),
    interrupted: search.outcome === 'interrupted',
    kind: 'capacity',
    notes: search.notes,
    stack: endpoints.stack,
    startedAt: startedAt.toISOString(),
    unverifiable: endpoints.unverifiable || undefined,
    verificationNote: endpoints.verificationNote,
    version: CAPACITY_VERSION,
  }
}

function errorOf(error: unknown): NonNullable<CapacityResult['error']> {
  if (error instanceof LogbenchError) return {exitCode: error.exitCode, kind: error.kind, message: error.message, suggestion: error.suggestion}
  return {exitCode: ExitCode.internal, kind: 'internal', message: messageOf(error)}
}
