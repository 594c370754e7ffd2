/**
 * Observing a run from outside the generators: ClickHouse's own view (when the
 * store is reachable) and the CPU and RSS of logbench's own serve, sampled each
 * interval while the load runs; then, once everything is stored, the stored
 * rate of the run per interval and the verdict.
 */
import type {Store} from '../../store/index.js'
import type {AggregateResult, RunResult} from '../result/types.js'

import {type ClickHouseView, sampleClickHouse, storedPerInterval, type StoredRateColumns, type ViewSampler} from '../measure/clickhouse-view.js'
import {type ResourceSeries, sampleMetricsEndpoint} from '../measure/resources.js'
import {bottleneckOf} from '../result/diagnose.js'

export interface RunObserver {
  /** Resolves once ClickHouse's counters before the run are read. */
  ready: Promise<void>
  /** Stop sampling (when sending is over). */
  stop(): Promise<void>
  /** Put the view, serve's resources, the stored rate and the verdict into the result (the store must still be open). */
  complete(result: RunResult | AggregateResult): Promise<void>
}

export function observeRun(options: {store?: Store; serveMetrics?: URL; intervalMs: number; storedColumns?: () => Promise<StoredRateColumns | undefined>}): RunObserver {
  const {intervalMs, store} = options
  const view: ViewSampler | undefined = store ? sampleClickHouse(store, {intervalMs}) : undefined
  const serve = options.serveMetrics ? sampleMetricsEndpoint(options.serveMetrics, intervalMs) : undefined
  let clickhouse: ClickHouseView | undefined
  let serveResources: ResourceSeries | undefined
  let stopped: Promise<void> | undefined
  const stop = () =>
    (stopped ??= (async () => {
      ;[clickhouse, serveResources] = await Promise.all([view?.stop(), serve?.stop()])
    })())
  return {
    ready: view?.ready ?? Promise.resolve(),
    async complete(result) {
      await stop()
      if (clickhouse && store && options.storedColumns && result.logs.acked > 0) {
        try {
          const columns = await options.storedColumns()
          // At the timeline's interval, which a long run has coarsened, so the stored rate stays bounded too.
          if (columns) clickhouse.stored = await storedPerInterval(store, result.runId, columns, Math.max(intervalMs, result.timeline?.intervalMs ?? 0))
          else clickhouse.errors.push("no stored rate: the table's profile has no ingest time or run id")
        } catch (error) {
          clickhouse.errors.push(`reading the stored rate failed: ${(error as Error).message}`)
        }
      }

      result.clickhouse = clickhouse ?? null
      result.serveResources = serveResources ?? null
      result.bottleneck = bottleneckOf(result)
    },
    stop,
  }
}
