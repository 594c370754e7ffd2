/**
 * Result documents built from a seeded random source, for the statistics and
 * history tests: a timeline of intervals, each with its own HDR histogram of
 * latencies drawn from a known distribution, so a test knows the difference
 * between two runs before it compares them.
 */
import type {CapacityResultDoc, LoadResultDoc} from '../../../src/lib/history/document.js'

import {encodeHistogram, newHistogram, recordMs, summarize} from '../../../src/lib/load/measure/histogram.js'
import {type Random, seededRandom} from '../../../src/lib/history/stats/random.js'

export interface SyntheticRun {
  seed: number
  runId?: string
  intervals?: number
  intervalMs?: number
  /** Batches answered per interval (may depend on the interval). */
  batches?: number | ((index: number, random: Random) => number)
  logsPerBatch?: number
  /** A latency in ms. */
  latency?: (random: Random, index: number) => number
  /** Share of logs that fail, per interval. */
  failRate?: number
  startMs?: number
  kind?: 'run' | 'parallel' | 'merge'
  config?: Partial<LoadResultDoc['config']>
  verification?: LoadResultDoc['verification']
  stages?: LoadResultDoc['stages']
}

/** A latency around `ms` with a few percent of noise. */
export const around = (ms: number, noise = 0.05) => (random: Random) => ms * (1 + (random() - 0.5) * 2 * noise)

export function syntheticRun(options: SyntheticRun): LoadResultDoc {
  const random = seededRandom(options.seed)
  const intervalMs = options.intervalMs ?? 1000
  const count = options.intervals ?? 20
  const logsPerBatch = options.logsPerBatch ?? 100
  const latency = options.latency ?? around(20)
  const start = Math.floor((options.startMs ?? Date.parse('2025-03-01T10:00:00Z')) / intervalMs) * intervalMs
  const all = newHistogram()
  let sent = 0
  let failed = 0
  const intervals = Array.from({length: count}, (_, index) => {
    const batches = typeof options.batches === 'function' ? options.batches(index, random) : options.batches ?? 100
    const histogram = newHistogram()
    for (let b = 0; b < batches; b++) {
      const ms = latency(random, index)
      recordMs(histogram, ms)
      recordMs(all, ms)
    }

    const logs = batches * logsPerBatch
    const lost = Math.round(logs * (options.failRate ?? 0))
    sent += logs
    failed += lost
    const s = summarize(histogram)
    return {
      acked: logs - lost,
      at: start + index * intervalMs,
      busyMs: 0,
      bytes: logs * 200,
      cpuMs: 0,
      errors: {},
      failed: lost,
      histogram: histogram.totalCount > 0 ? encodeHistogram(histogram) : '',
      latency: {count: s.count, maxMs: s.maxMs, p50Ms: s.p50Ms, p90Ms: s.p90Ms, p99Ms: s.p99Ms},
      retries: {},
      rssBytes: 0,
      sent: logs,
    }
  })
  const durationMs = count * intervalMs
  const summary = summarize(all)
  return {
    bytes: {sent: sent * 200},
    clickhouse: null,
    config: {
      apps: [],
      batchSize: logsPerBatch,
      concurrency: 4,
      errorRate: 0,
      model: 'closed',
      payload: 'array',
      retries: 5,
      seed: 1,
      target: 'http://127.0.0.1:3000/api/logs/batch',
      timeoutMs: 30_000,
      worker: {count: 1, index: 0},
      ...options.config,
    },
    durationMs,
    endedAt: new Date(start + durationMs).toISOString(),
    errors: {byClass: {}, samples: {}, total: 0},
    kind: options.kind ?? 'run',
    latency: {...summary, histogram: encodeHistogram(all)},
    logs: {acked: sent - failed, failed, sent},
    runId: options.runId ?? `run-synthetic-${options.seed}`,
    ...(options.stages ? {stages: options.stages} : {}),
    startedAt: new Date(start).toISOString(),
    throughput: {logsPerSecond: ((sent - failed) * 1000) / durationMs},
    timeline: {intervalMs, intervals},
    verification: options.verification ?? null,
  } as unknown as LoadResultDoc
}

/** A capacity result as `capacity --json` prints it: the maximum, and the trials around it. */
export function capacityResult(max: number | null, trials: [offered: number, verdict: 'pass' | 'fail'][], runId = 'capacity-synthetic'): CapacityResultDoc {
  return {
    config: {batchSize: 1000, precision: 0.05, target: 'http://127.0.0.1:3000/api/logs/batch', workers: 2},
    kind: 'capacity',
    maxSustainable: {limitedBy: max === null ? [] : ['latency'], logsPerSecond: max},
    runId,
    startedAt: '2025-03-01T10:00:00.000Z',
    trials: trials.map(([offered, verdict], index) => ({achievedLogsPerSecond: offered, index, offeredLogsPerSecond: offered, reasons: verdict === 'fail' ? ['latency'] : [], verdict})),
  }
}
