/** Real worker results for aggregation tests, produced by the real worker code over a scripted transport. */
import type {RunResult} from '../../../src/lib/load/result/types.js'

import {runWorker} from '../../../src/lib/load/session/worker.js'
import {FakeClock, ok, scriptedTransport} from './fakes.js'

export interface FakeWorkerOptions {
  index: number
  count: number
  logs: number
  /** Latency of every answer, ms (fake clock). */
  latencyMs: number
  /** Batch numbers that fail with a 400. */
  failBatches?: number[]
  runId?: string
  startMs?: number
}

export async function workerResult(options: FakeWorkerOptions): Promise<RunResult> {
  const clock = new FakeClock(options.startMs ?? Date.parse('2025-01-01T00:00:00Z'))
  const transport = scriptedTransport((request) => {
    clock.advance(options.latencyMs)
    const batch = Number(/-b(\d+)$/.exec(request.headers['idempotency-key'])![1])
    return options.failBatches?.includes(batch) ? {body: '{"error":"bad"}', statusCode: 400} : ok()
  })
  return runWorker(
    {
      batchSize: 100,
      concurrency: 1,
      logs: options.logs,
      payload: 'array',
      retries: 2,
      runId: options.runId ?? 'run-agg',
      seed: 1,
      target: new URL('http://127.0.0.1:1/api/logs/batch'),
      timeoutMs: 1000,
      worker: {count: options.count, index: options.index},
    },
    {
      clock,
      process: {cpuMs: () => ({system: 0, user: 0}), host: 'test-host', peakRssBytes: () => 50 * 1024 * 1024, pid: 1000 + options.index},
      transport,
    },
  )
}
