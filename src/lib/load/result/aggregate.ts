/**
 * Combine worker results into one: counters are summed, latency histograms
 * merged (percentiles of the whole are read from the merged histogram, never
 * averaged). `parallel` and `merge` both use this.
 */
import type {AggregateResult, Assessment, Counts, Measurements, RunResult, WorkerReport, WorkerStatus} from './types.js'

import {mergeStages} from '../measure/stages.js'
import {mergeTimelines} from '../measure/timeline.js'
import {RESULT_VERSION} from './types.js'
import {ClassCounter, decodeHistogram, encodeHistogram, mergeHistograms, summarize} from '../measure/histogram.js'
import {perSecond, round} from '../measure/rate.js'
import {int} from '../../format/units.js'

const FAILED_KEYS_CAP = 100_000

const sumCounts = (list: Counts[]): Counts => ({
  acked: list.reduce((sum, c) => sum + c.acked, 0),
  failed: list.reduce((sum, c) => sum + c.failed, 0),
  sent: list.reduce((sum, c) => sum + c.sent, 0),
})

export type AggregateMeasurements = Omit<Measurements, 'verification' | 'thresholds' | 'interrupted' | 'runId' | 'clickhouse' | 'serveResources' | 'bottleneck'>

/**
 * The measurements of several results taken together. The duration runs from
 * the earliest start to the latest end (wall clock), unless given.
 */
export function aggregateMeasurements(results: readonly RunResult[], options: {durationMs?: number} = {}): AggregateMeasurements {
  const starts = results.map((r) => Date.parse(r.startedAt))
  const ends = results.map((r) => Date.parse(r.endedAt))
  const startedAtMs = results.length > 0 ? Math.min(...starts) : Date.now()
  const endedAtMs = results.length > 0 ? Math.max(...ends) : startedAtMs
  // The span of the workers' own clocks: they run on one host (parallel), or
  // several whose clocks are assumed in sync (merge), so prefer the longest
  // worker duration when the wall span is shorter (clock skew).
  const longest = results.reduce((max, r) => Math.max(max, r.durationMs), 0)
  const durationMs = options.durationMs ?? Math.max(endedAtMs - startedAtMs, longest)
  const logs = sumCounts(results.map((r) => r.logs))
  const batches = sumCounts(results.map((r) => r.batches))
  const bytesSent = results.reduce((sum, r) => sum + r.bytes.sent, 0)
  const latency = mergeHistograms(results.map((r) => decodeHistogram(r.latency.histogram)))
  const service = mergeHistograms(results.map((r) => decodeHistogram(r.serviceLatency.histogram)))
  const samples: Record<string, string> = {}
  for (const r of results) for (const [cls, text] of Object.entries(r.errors.samples ?? {})) samples[cls] ??= text
  const keys: number[] = []
  let truncated = false
  for (const r of results) {
    truncated ||= r.failedBatches.truncated
    for (const key of r.failedBatches.keys) {
      if (keys.length < FAILED_KEYS_CAP) keys.push(key)
      else truncated = true
    }
  }

  const rated = results.filter((r) => r.rate)
  const timeline = mergeTimelines(results.map((r) => r.timeline))
  const stages = mergeStages(results.map((r) => r.stages))
  // The measured part: without the warm-up (the workers share one schedule, so one warm-up length).
  const warmupMs = Math.max(0, ...results.map((r) => r.warmup?.durationMs ?? 0))
  const warmupAcked = results.reduce((sum, r) => sum + (r.warmup?.acked ?? 0), 0)
  const measuredMs = Math.max(0, durationMs - warmupMs)
  const measuredAcked = logs.acked - warmupAcked
  return {
    batches,
    bytes: {sent: bytesSent},
    durationMs: round(durationMs, 3),
    endedAt: new Date(startedAtMs + durationMs).toISOString(),
    errors: {
      byClass: ClassCounter.sum(results.map((r) => r.errors.byClass)),
      logsByClass: ClassCounter.sum(results.map((r) => r.errors.logsByClass ?? {})),
      logsByKind: ClassCounter.sum(results.map((r) => r.errors.logsByKind ?? {})),
      samples,
      total: results.reduce((sum, r) => sum + r.errors.total, 0),
    },
    failedBatches: {keys: keys.sort((a, b) => a - b), truncated},
    latency: {...summarize(latency), histogram: encodeHistogram(latency)},
    logs,
    rate:
      rated.length > 0
        ? {
            achievedLogsPerSecond: perSecond(measuredAcked, measuredMs),
            targetLogsPerSecond: rated.reduce((sum, r) => sum + r.rate!.targetLogsPerSecond, 0),
          }
        : null,
    retries: {
      byClass: ClassCounter.sum(results.map((r) => r.retries.byClass)),
      count: results.reduce((sum, r) => sum + r.retries.count, 0),
    },
    serviceLatency: {...summarize(service), histogram: encodeHistogram(service)},
    startedAt: new Date(startedAtMs).toISOString(),
    throughput: {
      batchesPerSecond: perSecond(batches.acked, durationMs),
      bytesPerSecond: Math.round(perSecond(bytesSent, durationMs)),
      logsPerSecond: perSecond(measuredAcked, measuredMs),
    },
    ...(timeline ? {timeline} : {}),
    ...(stages ? {stages} : {}),
    ...(warmupMs > 0 ? {warmup: {acked: warmupAcked, durationMs: warmupMs}} : {}),
  }
}

/** A row of the per-worker table, from a worker's result (or its absence). */
export function workerReport(
  index: number,
  result: RunResult | undefined,
  exit: {status: WorkerStatus; pid?: number; exitCode?: number | null; signal?: string | null; error?: string},
): WorkerReport {
  return {
    durationMs: result?.durationMs ?? 0,
    error: exit.error,
    errors: result?.errors.total ?? 0,
    exitCode: exit.exitCode,
    index,
    logs: result?.logs ?? {acked: 0, failed: 0, sent: 0},
    logsPerSecond: result?.throughput.logsPerSecond ?? 0,
    p50Ms: result?.latency.p50Ms ?? 0,
    p99Ms: result?.latency.p99Ms ?? 0,
    pid: exit.pid ?? result?.pid,
    result,
    retries: result?.retries.count ?? 0,
    signal: exit.signal,
    status: exit.status,
  }
}

/** The guide's closing verdict, on the aggregate throughput, refusing to praise a run that lost data. */
export function assess(result: Pick<AggregateResult, 'workersFailed' | 'workers' | 'logs' | 'throughput' | 'verification' | 'errors' | 'interrupted'>): Assessment {
  const rate = result.throughput.logsPerSecond
  const fmt = int(rate)
  if (result.verification && result.verification.missing > 0) {
    return {grade: 'failed', summary: `${int(result.verification.missing)} acknowledged logs are missing from storage`}
  }

  if (result.workersFailed > 0) {
    return {grade: 'failed', summary: `${result.workersFailed} of ${result.workers.length} workers failed`}
  }

  if (result.logs.acked === 0) return {grade: 'failed', summary: 'nothing was acknowledged'}
  const caveats: string[] = []
  if (result.errors.total > 0) caveats.push(`${int(result.errors.total)} batches failed`)
  // Records an answer refused one by one (OTLP partialSuccess, _bulk items) fail no whole batch.
  else if (result.logs.failed > 0) caveats.push(`${int(result.logs.failed)} logs refused`)
  if (result.interrupted) caveats.push('interrupted before the end')
  const suffix = caveats.length > 0 ? ` (${caveats.join('; ')})` : ''
  if (rate >= 100_000 && caveats.length === 0) return {grade: 'excellent', summary: `${fmt} logs/s: the system handled extreme load remarkably well`}
  if (rate >= 50_000) return {grade: 'good', summary: `${fmt} logs/s: solid ingest throughput${suffix}`}
  if (rate >= 10_000) return {grade: 'fair', summary: `${fmt} logs/s: acceptable, with room to improve${suffix}`}
  return {grade: 'poor', summary: `${fmt} logs/s: below 10,000 logs/s; see "Workers Complete but with Low Throughput" in the guide${suffix}`}
}

/** Aggregate worker reports into the parallel / merge document (verification and thresholds come later). */
export function buildAggregate(
  kind: 'parallel' | 'merge',
  runId: string,
  workers: WorkerReport[],
  options: {durationMs?: number; interrupted: boolean; sources?: string[]},
): AggregateResult {
  const results = workers.map((w) => w.result).filter((r): r is RunResult => r !== undefined)
  const measured = aggregateMeasurements(results, {durationMs: options.durationMs})
  const first = results[0]?.config
  const perWorker = results.map((r) => r.config.logs)
  const equal = perWorker.length > 0 && perWorker.every((n) => n !== undefined && n === perWorker[0])
  const succeeded = workers.filter((w) => w.status === 'ok').length
  const failed = workers.filter((w) => w.status === 'failed').length
  const withResults = workers.filter((w) => w.result)
  const aggregate: AggregateResult = {
    ...measured,
    assessment: {grade: 'failed', summary: ''},
    averagePerWorker: {
      durationMs: withResults.length > 0 ? round(withResults.reduce((sum, w) => sum + w.durationMs, 0) / withResults.length, 3) : 0,
      logsPerSecond: withResults.length > 0 ? round(withResults.reduce((sum, w) => sum + w.logsPerSecond, 0) / withResults.length, 1) : 0,
    },
    config: {
      apps: first?.apps ?? [],
      batchSize: first?.batchSize ?? 0,
      concurrency: first?.concurrency ?? 0,
      durationMs: first?.durationMs,
      errorRate: first?.errorRate ?? 0,
      logs: perWorker.every((n) => n !== undefined) && perWorker.length > 0 ? perWorker.reduce((sum, n) => sum! + n!, 0) : undefined,
      logsPerWorker: equal ? perWorker[0] : undefined,
      maxInFlight: first?.maxInFlight,
      model: first?.model ?? 'closed',
      payload: first?.payload ?? 'array',
      protocol: first?.protocol,
      rate: results.some((r) => r.config.rate !== undefined) ? results.reduce((sum, r) => sum + (r.config.rate ?? 0), 0) : undefined,
      ...(first?.stages ? {stages: first.stages.map((stage, i) => ({durationMs: stage.durationMs, rate: results.reduce((sum, r) => sum + (r.config.stages?.[i]?.rate ?? 0), 0)}))} : {}),
      ...(first?.startRate === undefined ? {} : {startRate: results.reduce((sum, r) => sum + (r.config.startRate ?? 0), 0)}),
      ...(first?.warmupMs ? {warmupMs: first.warmupMs} : {}),
      retries: first?.retries ?? 0,
      seed: first?.seed ?? 0,
      target: first?.target ?? '',
      template: first?.template,
      timeoutMs: first?.timeoutMs ?? 0,
      workers: workers.length,
    },
    interrupted: options.interrupted,
    kind,
    runId,
    sources: options.sources,
    thresholds: [],
    verification: null,
    version: RESULT_VERSION,
    workers,
    workersFailed: failed,
    workersSucceeded: succeeded,
  }
  aggregate.assessment = assess(aggregate)
  return aggregate
}
