/**
 * One worker, end to end: synthesiser + transport + load loop, turned into a
 * RunResult document. Verification and thresholds are applied by checks/checks.ts.
 */
import os from 'node:os'
import {performance} from 'node:perf_hooks'

import type {Clock} from '../../clock.js'
import type {RunConfig, RunResult} from '../result/types.js'
import type {ProgressSnapshot, SendOutcome, SendSettings} from '../send/sender.js'
import type {Transport} from '../send/transport.js'

import {sampleProcess} from '../measure/resources.js'
import {TimelineRecorder} from '../measure/timeline.js'

import {countsByKind} from '../protocols/ack.js'
import {createEncoder} from '../protocols/index.js'
import {DEFAULTS, type LoadSettings, modelOf, outstandingOf} from '../settings.js'
import {RESULT_VERSION} from '../result/types.js'
import {sendLoad} from '../send/sender.js'
import {encodeHistogram, summarize} from '../measure/histogram.js'
import {perSecond, round} from '../measure/rate.js'
import {DEFAULT_APPS, LogSynth} from '../generate/synth.js'
import {undiciTransport} from '../send/transport.js'

/** A worker's settings (a LoadSettings, of which these matter here) and what it reports to while it runs. */
export type WorkerOptions = SendSettings &
  Pick<LoadSettings, 'runId' | 'seed' | 'payload' | 'retries' | 'timeoutMs'> &
  Partial<Pick<LoadSettings, 'apps' | 'errorRate' | 'protocol' | 'template' | 'intervalMs'>> & {
    target: URL
    progressIntervalMs?: number
    onProgress?: (snapshot: ProgressSnapshot) => void
    signal?: AbortSignal
  }

export interface ProcessStats {
  pid: number
  host: string
  /** Peak resident set size so far, bytes. */
  peakRssBytes(): number
  /** CPU time used so far, ms. */
  cpuMs(): {user: number; system: number}
}

export const processStats: ProcessStats = {
  cpuMs() {
    const usage = process.cpuUsage()
    return {system: usage.system / 1000, user: usage.user / 1000}
  },
  host: os.hostname(),
  peakRssBytes: () => process.resourceUsage().maxRSS * 1024,
  pid: process.pid,
}

export interface WorkerDeps {
  transport?: Transport
  clock?: Clock
  random?: () => number
  process?: ProcessStats
}

/** The configuration a result reports: the settings as the run used them. */
export function runConfigOf(options: WorkerOptions): RunConfig {
  const model = modelOf(options)
  return {
    apps: options.apps ?? [...DEFAULT_APPS],
    batchSize: options.batchSize,
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    errorRate: options.errorRate ?? 0,
    logs: options.logs,
    maxInFlight: model === 'open' ? (options.maxInFlight ?? DEFAULTS.maxInFlight) : undefined,
    model,
    payload: options.payload,
    protocol: options.protocol ?? {name: 'json'},
    rate: options.rate,
    ...(options.stages ? {stages: options.stages.map(({durationMs, rate}) => ({durationMs, rate}))} : {}),
    ...(options.startRate === undefined ? {} : {startRate: options.startRate}),
    ...(options.warmupMs ? {warmupMs: options.warmupMs} : {}),
    retries: options.retries,
    seed: options.seed,
    target: options.target.href,
    template: options.template?.file,
    timeoutMs: options.timeoutMs,
    worker: options.worker,
  }
}

export async function runWorker(options: WorkerOptions, deps: WorkerDeps = {}): Promise<RunResult> {
  const synth = new LogSynth({apps: options.apps, errorRate: options.errorRate, runId: options.runId, seed: options.seed, template: options.template})
  const encoder = createEncoder(options.protocol ?? {name: 'json'}, synth, options.payload)
  const connections = outstandingOf({concurrency: options.concurrency, maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight, rate: options.rate, stages: options.stages})
  const transport = deps.transport ?? undiciTransport({connections, maxBodyBytes: encoder.maxResponseBytes, timeoutMs: options.timeoutMs, url: options.target})
  const proc = deps.process ?? processStats
  const cpuBefore = proc.cpuMs()
  const timeline = new TimelineRecorder(options.intervalMs ?? 1000, deps.clock ?? {wallNow: () => Date.now()})
  const sampler = sampleProcess(timeline, {clock: deps.clock})
  const loopBefore = performance.eventLoopUtilization()
  let outcome: SendOutcome
  try {
    outcome = await sendLoad({...options, clock: deps.clock, encoder, intervals: timeline, random: deps.random, synth, transport})
  } finally {
    sampler.stop()
    if (!deps.transport) await transport.close()
  }

  const loop = performance.eventLoopUtilization(loopBefore)
  const cpuAfter = proc.cpuMs()
  const cpuUser = cpuAfter.user - cpuBefore.user
  const cpuSystem = cpuAfter.system - cpuBefore.system
  const result = resultFromOutcome(outcome, {
    config: runConfigOf(options),
    host: proc.host,
    pid: proc.pid,
    resources: {
      cpuPerLogUs: outcome.logs.sent > 0 ? round(((cpuUser + cpuSystem) * 1000) / outcome.logs.sent, 3) : 0,
      cpuSystemMs: Math.round(cpuSystem),
      cpuUserMs: Math.round(cpuUser),
      peakRssBytes: proc.peakRssBytes(),
      busyMs: Math.round(loop.active),
    },
    runId: options.runId,
  })
  result.timeline = timeline.toJSON()
  return result
}

export function resultFromOutcome(
  outcome: SendOutcome,
  context: {config: RunConfig; runId: string; host: string; pid: number; resources: RunResult['resources']},
): RunResult {
  const {config} = context
  const failedKeys = outcome.failedBatches.map((b) => b * config.worker.count + config.worker.index)
  // Throughput is that of the measured part: the warm-up's logs and time are left out (they are verified all the same).
  const warmupMs = outcome.warmup?.durationMs ?? 0
  const measuredMs = Math.max(0, outcome.durationMs - warmupMs)
  const measuredAcked = outcome.logs.acked - (outcome.warmup?.acked ?? 0)
  return {
    batches: outcome.batches,
    bytes: {sent: outcome.bytesSent},
    config,
    durationMs: round(outcome.durationMs, 3),
    endedAt: new Date(outcome.endedAtMs).toISOString(),
    errors: {...outcome.errors, logsByKind: countsByKind(outcome.errors.logsByClass), samples: outcome.errorSamples},
    failedBatches: {keys: failedKeys, truncated: outcome.failedBatchesTruncated},
    host: context.host,
    interrupted: outcome.stopReason === 'interrupted',
    kind: 'run',
    latency: {...summarize(outcome.latency), histogram: encodeHistogram(outcome.latency)},
    logs: outcome.logs,
    pid: context.pid,
    rate: outcome.rate ? {achievedLogsPerSecond: perSecond(measuredAcked, measuredMs), targetLogsPerSecond: outcome.rate.targetLogsPerSecond} : null,
    resources: context.resources,
    retries: outcome.retries,
    runId: context.runId,
    serviceLatency: {...summarize(outcome.service), histogram: encodeHistogram(outcome.service)},
    startedAt: new Date(outcome.startedAtMs).toISOString(),
    stopReason: outcome.stopReason,
    thresholds: [],
    throughput: {
      batchesPerSecond: perSecond(outcome.batches.acked, outcome.durationMs),
      bytesPerSecond: Math.round(perSecond(outcome.bytesSent, outcome.durationMs)),
      logsPerSecond: perSecond(measuredAcked, measuredMs),
    },
    verification: null,
    version: RESULT_VERSION,
    ...(outcome.stages ? {stages: outcome.stages} : {}),
    ...(outcome.warmup ? {warmup: outcome.warmup} : {}),
  }
}
