/**
 * Did every acknowledged log land? Counts the stored rows of a run id and
 * compares them with the acknowledgements: stored, missing, duplicated.
 *
 * Each log's seq says which batch carried it (seq = index·workers + worker,
 * batch = index div batchSize), so rows of batches that were *not*
 * acknowledged (a timeout after the server committed, say) are told apart from
 * rows of acknowledged ones, and `missing` is exact rather than a difference
 * of totals.
 */
import type {Clock} from './clock.js'
import type {QueryParams, Store} from '../store/index.js'

import {systemClock} from './clock.js'

export interface VerifyInput {
  runId: string
  acked: number
  workers: number
  batchSize: number
  /** Keys (batch × workers + worker) of the batches that were not acknowledged. */
  failedKeys: readonly number[]
  /** False when the failed batch list was truncated: missing is then a lower bound. */
  failedKeysComplete: boolean
  /**
   * Batches each worker sent, by worker index (length `workers`). Only the seqs of those batches
   * are counted: rows of the run id from elsewhere (an earlier run with the same id, a worker
   * that died before reporting, a result left out of merge) cannot then hide a missing log.
   */
  sentBatches?: readonly number[]
}

export interface Verification {
  runId: string
  /** Where the rows were counted (no credentials). */
  store: string
  acked: number
  /** Rows with this run id. */
  stored: number
  /** Distinct seq among them. */
  unique: number
  /** Acknowledged logs not found. */
  missing: number
  /** Rows beyond the first of each seq. */
  duplicated: number
  /** Distinct logs stored from batches that were not acknowledged. */
  unacknowledged: number
  /** Distinct seqs of the run id outside the batches these results sent (not counted above). */
  outside: number
  /** False when `missing` may be understated (more failed batches than could be tracked). */
  exact: boolean
  ok: boolean
  /** Time spent waiting for rows to appear (0 when they were all there at the first count). */
  waitedMs: number
}

/** Build the counting query; exported for tests. */
export function verificationQuery(tableRef: string, input: Pick<VerifyInput, 'failedKeys' | 'sentBatches'>): string {
  const unacked =
    input.failedKeys.length > 0
      ? ',\n  uniqExactIf(seq, has({failed:Array(UInt64)}, intDiv(intDiv(seq, {workers:UInt64}), {batch:UInt64}) * {workers:UInt64} + (seq % {workers:UInt64}))) AS unacked'
      : ''
  // A seq belongs to these results when its worker sent the batch that carries it.
  const covered = 'intDiv(intDiv(seq, {workers:UInt64}), {batch:UInt64}) < arrayElement({sent:Array(UInt64)}, toUInt64(seq % {workers:UInt64}) + 1)'
  if (input.sentBatches) {
    return `SELECT countIf(${covered}) AS stored, uniqExactIf(seq, ${covered}) AS unique, uniqExact(seq) AS all_unique${unacked}\nFROM ${tableRef}\nWHERE run_id = {runId:String}`
  }

  return `SELECT count() AS stored, uniqExact(seq) AS unique${unacked}\nFROM ${tableRef}\nWHERE run_id = {runId:String}`
}

export interface VerifyOptions {
  /** Keep counting until the acknowledged rows are all there, for up to this long (ms). */
  waitMs?: number
  pollMs?: number
  clock?: Clock
  signal?: AbortSignal
}

export async function verifyRun(store: Store, input: VerifyInput, options: VerifyOptions = {}): Promise<Verification> {
  const clock = options.clock ?? systemClock
  const started = clock.now()
  const sql = verificationQuery(store.tableRef, input)
  const params: QueryParams = {runId: input.runId}
  if (input.failedKeys.length > 0 || input.sentBatches) Object.assign(params, {batch: input.batchSize, workers: input.workers})
  if (input.failedKeys.length > 0) params.failed = [...input.failedKeys]
  if (input.sentBatches) params.sent = [...input.sentBatches]
  for (let attempt = 0; ; attempt++) {
    const [row] = await store.query<{stored: number; unique: number; all_unique?: number; unacked?: number}>(sql, params, {signal: options.signal})
    const stored = Number(row?.stored ?? 0)
    const unique = Number(row?.unique ?? 0)
    const outside = Number(row?.all_unique ?? unique) - unique
    const unacknowledged = Number(row?.unacked ?? 0)
    const storedOfAcked = unique - unacknowledged
    const missing = Math.max(0, input.acked - storedOfAcked)
    const waited = clock.now() - started
    if (missing === 0 || waited >= (options.waitMs ?? 0) || options.signal?.aborted) {
      return {
        acked: input.acked,
        duplicated: stored - unique,
        exact: input.failedKeysComplete,
        missing,
        ok: missing === 0,
        outside,
        runId: input.runId,
        store: `${store.info.kind === 'server' ? 'ClickHouse' : 'embedded engine'} ${store.info.location} ${store.info.database}.${store.info.table}`,
        stored,
        unacknowledged,
        unique,
        waitedMs: attempt === 0 ? 0 : Math.round(waited),
      }
    }

    await clock.sleep(Math.min(options.pollMs ?? 500, (options.waitMs ?? 0) - waited), options.signal)
  }
}
