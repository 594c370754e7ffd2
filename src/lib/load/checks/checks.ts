import {messageOf} from '../../errors.js'
/**
 * After a run: verification against storage, then thresholds, then the
 * verdict. A run fails its checks (exit 4) when an acknowledged log is missing,
 * a threshold is breached, or a worker failed.
 */
import type {AggregateResult, Measurements, RunResult} from '../result/types.js'
import type {Verification, VerifyInput} from '../../verify/verify.js'

import {evaluateThresholds, type Threshold} from './thresholds.js'
import {int} from '../../format/units.js'

export interface CheckPlan {
  thresholds: readonly Threshold[]
  /** Counts the stored rows; absent when no store is reachable or verification is off. */
  verify?: (input: VerifyInput) => Promise<Verification>
  workers: number
  batchSize: number
  /** Workers that failed, for the verdict. */
  failedWorkers?: number
  /** Verification was wanted but cannot run, and why (known before the run: a table without run id or seq). */
  unverifiable?: string
}

export interface CheckVerdict {
  failed: boolean
  /** One line per reason the checks failed. */
  reasons: string[]
  /**
   * Verification was wanted but could not run (no run id or seq in the table, storage unreachable
   * or too slow while counting): why, and what to pass. The measurements stand; exit 5 unless a
   * check failed too.
   */
  unverified?: string
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
  // A verification that cannot run never takes the measured report with it: it is reported as not done.
  let unverified = plan.unverifiable
  if (plan.verify && !unverified) {
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
      const suggestion = (error as {suggestion?: string}).suggestion
      unverified = `not verified: counting the stored rows failed: ${messageOf(error)}${suggestion ? ` (${suggestion})` : ''}`
    }
  }

  result.thresholds = evaluateThresholds(plan.thresholds, result)
  const verdict = checkVerdict(result, plan.failedWorkers ?? 0)
  return unverified ? {...verdict, unverified} : verdict
}

export function checkVerdict(result: Pick<Measurements, 'verification' | 'thresholds'> & {logs?: Pick<Measurements['logs'], 'sent' | 'acked'>}, failedWorkers: number): CheckVerdict {
  const reasons: string[] = []
  // A run the target acknowledged nothing of (a wrong URL, a 501) is a failure, thresholds or not.
  if (result.logs && result.logs.sent > 0 && result.logs.acked === 0) reasons.push(`nothing was acknowledged of ${int(result.logs.sent)} logs sent`)
  const v = result.verification
  if (v && v.missing > 0) reasons.push(`${int(v.missing)} acknowledged logs are missing from storage`)
  if (v && v.duplicated > 0) reasons.push(`${int(v.duplicated)} rows are duplicates of logs already stored (a log sent once was stored more than once)`)
  for (const t of result.thresholds) {
    if (!t.ok) reasons.push(`threshold ${t.expression} breached: ${t.actual === null ? t.reason : `measured ${t.actual}`}`)
  }

  if (failedWorkers > 0) reasons.push(`${failedWorkers} worker${failedWorkers === 1 ? '' : 's'} failed`)
  return {failed: reasons.length > 0, reasons}
}
