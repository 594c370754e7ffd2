import {messageOf} from '../errors.js'
/**
 * After a run: verification against storage, then thresholds, then the
 * verdict. A run fails its checks (exit 4) when an acknowledged log is missing,
 * a threshold is breached, or a worker failed.
 */
import type {AggregateResult, Measurements, RunResult} from './result.js'
import type {Verification, VerifyInput} from './verify.js'

import {evaluateThresholds, type Threshold} from './thresholds.js'

export interface CheckPlan {
  thresholds: readonly Threshold[]
  /** Counts the stored rows; absent when no store is reachable or verification is off. */
  verify?: (input: VerifyInput) => Promise<Verification>
  workers: number
  batchSize: number
  /** Workers that failed, for the verdict. */
  failedWorkers?: number
}

export interface CheckVerdict {
  failed: boolean
  /** One line per reason the checks failed. */
  reasons: string[]
}

/** Batches sent by worker index, from the results at hand (a worker without a result sent none of them). */
export function sentBatchesOf(result: Measurements, workers: number): number[] {
  const sent = Array.from({length: workers}, () => 0)
  const own = (run: RunResult) => {
    const {index} = run.config.worker
    if (index >= 0 && index < workers) sent[index] += run.batches.sent
  }

  if ('kind' in result && result.kind === 'run') own(result as RunResult)
  else for (const worker of (result as AggregateResult).workers ?? []) if (worker.result) own(worker.result)
  return sent
}

export async function applyChecks(result: Measurements, plan: CheckPlan): Promise<CheckVerdict> {
  // A verification that cannot run fails the checks, but never takes the measured report with it.
  let verifyError: string | undefined
  if (plan.verify) {
    try {
      result.verification = await plan.verify({
        acked: result.logs.acked,
        batchSize: plan.batchSize,
        failedKeys: result.failedBatches.keys,
        failedKeysComplete: !result.failedBatches.truncated,
        runId: result.runId,
        sentBatches: sentBatchesOf(result, plan.workers),
        workers: plan.workers,
      })
    } catch (error) {
      verifyError = `verification could not run: ${messageOf(error)}`
    }
  }

  result.thresholds = evaluateThresholds(plan.thresholds, result)
  const verdict = verdictOf(result, plan.failedWorkers ?? 0)
  if (verifyError) return {failed: true, reasons: [verifyError, ...verdict.reasons]}
  return verdict
}

export function verdictOf(result: Pick<Measurements, 'verification' | 'thresholds'> & {logs?: Pick<Measurements['logs'], 'sent' | 'acked'>}, failedWorkers: number): CheckVerdict {
  const reasons: string[] = []
  // A run the target acknowledged nothing of (a wrong URL, a 501) is a failure, thresholds or not.
  if (result.logs && result.logs.sent > 0 && result.logs.acked === 0) reasons.push(`nothing was acknowledged of ${result.logs.sent.toLocaleString('en-US')} logs sent`)
  const v = result.verification
  if (v && v.missing > 0) reasons.push(`${v.missing.toLocaleString('en-US')} acknowledged logs are missing from storage`)
  for (const t of result.thresholds) {
    if (!t.ok) reasons.push(`threshold ${t.expression} breached: ${t.actual === null ? t.reason : `measured ${t.actual}`}`)
  }

  if (failedWorkers > 0) reasons.push(`${failedWorkers} worker${failedWorkers === 1 ? '' : 's'} failed`)
  return {failed: reasons.length > 0, reasons}
}
