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
  /** False when `missing` may be understated (more failed batches than could be tracked). */
  exact: boolean
  ok: boolean
  /** Time spent waiting for rows to appear (0 when they were all there at the first count). */
  waitedMs: number
}

/** Build the counting query; exported for tests. */
export function verificationQuery(tableRef: string, input: Pick<VerifyInput, 'failedKeys'>): string {
  const unacked =
    input.failedKeys.length > 0
      ? ',\n  uniqExactIf(seq, has({failed:Array(UInt64)}, intDiv(intDiv(seq, {workers:UInt64}), {batch:UInt64}) * {workers:UInt64} + (seq % {workers:UInt64}))) AS unacked'
      : ''
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
  const params: QueryParams =
    input.failedKeys.length > 0
      ? {batch: input.batchSize, failed: [...input.failedKeys], runId: input.runId, workers: input.workers}
      : {runId: input.runId}
  for (let attempt = 0; ; attempt++) {
    const [row] = await store.query<{stored: number; unique: number; unacked?: number}>(sql, params, {signal: options.signal})
    const stored = Number(row?.stored ?? 0)
    const unique = Number(row?.unique ?? 0)
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
