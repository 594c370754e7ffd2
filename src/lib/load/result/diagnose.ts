/**
 * What limited a result, read off the result document itself (a run, or the
 * aggregate of several): the figures the bottleneck rule needs, from the
 * document's counters, timelines and ClickHouse's view.
 */
import type {AggregateResult, RunResult} from './types.js'

import {type Bottleneck, bottleneck} from '../measure/bottleneck.js'

/** The bottleneck of a result document (a run, or the aggregate of several). */
export function bottleneckOf(result: AggregateResult | RunResult): Bottleneck {
  const runs = result.kind === 'run' ? [result] : result.workers.map((w) => w.result).filter((r): r is RunResult => r !== undefined)
  return bottleneck({
    acked: result.logs.acked,
    clickhouse: result.clickhouse,
    concurrency: result.config.concurrency,
    errors: result.errors.total,
    model: result.config.model,
    p50Ms: result.latency.p50Ms,
    p99Ms: result.latency.p99Ms,
    rate: result.rate,
    retriesByClass: result.retries.byClass,
    serveResources: result.serveResources,
    sharedProcess: result.kind === 'run' && result.resources.sharedWithServe === true,
    timeline: result.timeline,
    workers: runs.map((r) => ({busyMs: r.resources.busyMs, cpuMs: r.resources.cpuUserMs + r.resources.cpuSystemMs, durationMs: r.durationMs, timeline: r.timeline})),
  })
}
