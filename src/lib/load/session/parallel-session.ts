/**
 * A whole `parallel`: choose the target, start the workers with their share of
 * the settings, aggregate their results, verify the whole run once, apply
 * thresholds and analyse.
 */
import type {AggregateResult} from '../result/types.js'
import type {WorkerEvent} from '../workers/events.js'
import type {Spawner} from '../workers/spawn.js'

import {assess, buildAggregate} from '../result/aggregate.js'
import {settingsOfWorkers} from '../settings.js'
import {runParallel} from '../workers/parallel.js'
import {assertFreshRunId, finish, observeEndpoints, openEndpoints, type SessionBase, type SessionOutcome, storeOf, unreachableReason} from './endpoints.js'

export interface ParallelSessionOptions extends SessionBase {
  spawn: Spawner
  graceMs?: number
  onEvent?: (worker: number, event: WorkerEvent) => void
  onStart?: (worker: number, pid: number | undefined) => void
  onExit?: (worker: number, report: AggregateResult['workers'][number]) => void
  /** Called once the target is known, before workers start. */
  onTarget?: (target: URL, description?: string) => void
}

export async function parallelSession(options: ParallelSessionOptions): Promise<SessionOutcome<AggregateResult>> {
  const {settings} = options
  // Refuses work that cannot be split before anything starts.
  settingsOfWorkers(settings)
  const endpoints = await openEndpoints(options)
  try {
    await assertFreshRunId(endpoints, settings.runId)
    options.onTarget?.(endpoints.target, endpoints.description)
    const observer = observeEndpoints(endpoints, options)
    await observer.ready
    const outcome = await runParallel({
      graceMs: options.graceMs,
      onEvent: options.onEvent,
      onExit: options.onExit,
      onStart: options.onStart,
      settings: settingsOfWorkers(settings, endpoints.target),
      signal: options.signal,
      spawn: options.spawn,
    })
    await observer.stop()
    const result = buildAggregate('parallel', settings.runId, outcome.workers, {interrupted: outcome.interrupted})
    const results = outcome.workers.flatMap((w) => (w.result ? [w.result] : []))
    const unreachable = unreachableReason(endpoints.target, results, settings.workers)
    if (unreachable) return {result, stack: endpoints.description, unreachable, verdict: {failed: true, reasons: [unreachable]}}
    const {analysis, verdict} = await finish(result, endpoints, options, {failedWorkers: result.workersFailed, workers: settings.workers})
    await observer.complete(result)
    // Verification can change the verdict of the run.
    result.assessment = assess(result)
    return {analysis, result, stack: endpoints.description, store: storeOf(endpoints), verdict, verificationNote: result.verificationNote ?? endpoints.verificationNote}
  } finally {
    await endpoints.close()
  }
}
