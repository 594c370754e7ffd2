/**
 * A whole `run` in this process: choose the target, send, stop the serve so
 * everything is flushed, verify, apply thresholds and analyse. A worker of
 * `parallel` runs the same session, with verification left to the parent.
 */
import type {RunResult} from '../result/types.js'
import type {ProgressSnapshot} from '../send/sender.js'

import {assertFreshRunId, finish, observeEndpoints, openEndpoints, type SessionBase, type SessionOutcome, storeOf, unreachableReason} from './endpoints.js'
import {runWorker, type WorkerDeps} from './worker.js'

export interface RunSessionOptions extends SessionBase {
  progressIntervalMs?: number
  onProgress?: (snapshot: ProgressSnapshot) => void
  /** Called once the target is known, before sending; resolve false to send nothing (the barrier was not released). */
  beforeSend?: (target: URL) => Promise<boolean>
  /** Called when sending is over, before verification. */
  onSent?: (result: RunResult) => void
}

export async function runSession(options: RunSessionOptions, deps: WorkerDeps = {}): Promise<SessionOutcome<RunResult> | undefined> {
  const {settings} = options
  const endpoints = await openEndpoints(options)
  try {
    // A worker among several shares its run id with the others: only a whole run checks it.
    const whole = settings.worker.count === 1
    if (whole) await assertFreshRunId(endpoints, settings.runId)
    if (options.beforeSend && !(await options.beforeSend(endpoints.target))) return undefined
    const observer = whole ? observeEndpoints(endpoints, options) : undefined
    await observer?.ready
    const result = await runWorker(
      {...settings, onProgress: options.onProgress, progressIntervalMs: options.progressIntervalMs, signal: options.signal, target: endpoints.target},
      deps,
    )
    await observer?.stop()
    if (endpoints.stack) result.resources.sharedWithServe = true
    options.onSent?.(result)
    const unreachable = unreachableReason(endpoints.target, [result], 1)
    const {analysis, verdict} = unreachable
      ? {analysis: undefined, verdict: {failed: true, reasons: [unreachable]}}
      : await finish(result, endpoints, options, {failedWorkers: 0, workers: settings.worker.count})
    await observer?.complete(result)
    return {analysis, result, stack: endpoints.description, store: storeOf(endpoints), unreachable, verdict, verificationNote: result.verificationNote ?? endpoints.verificationNote}
  } finally {
    await endpoints.close()
  }
}
