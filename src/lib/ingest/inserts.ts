/**
 * The write side of group commit: the batcher's writer, which merges the
 * requests' encoded rows into one INSERT body, and the bookkeeping of every
 * INSERT's outcome (stats, metrics, and the store's liveness when an INSERT
 * never reached it).
 */
import {randomBytes} from 'node:crypto'
import * as hdr from 'hdr-histogram-js'

import type {InsertFormat, Store} from '../store/index.js'
import type {BufferPool} from './buffer-pool.js'
import type {IngestMetrics} from './metrics.js'
import type {StoreLiveness} from './store-liveness.js'

import {messageOf} from '../errors.js'
import {Batcher, type BatcherOptions, type InsertOutcome} from './batcher.js'

export interface InsertCounts {
  inserts: number
  failedInserts: number
  insertedRows: number
}

export interface Inserts {
  batcher: Batcher
  counts: InsertCounts
  /** Rows per INSERT statement (committed ones), by percentile. */
  rowsPerInsert(): {p50: number; p99: number; max: number}
  /** Set the buffer gauges from the batcher's state. */
  updateBufferGauges(): void
}

export function createInserts(options: {
  store: Store
  format: InsertFormat
  pool: BufferPool
  batch: BatcherOptions
  metrics: IngestMetrics
  liveness: StoreLiveness
  log: (line: string) => void
}): Inserts {
  const {format, liveness, log, metrics, pool, store} = options
  const dedupTokens = store.info.capabilities.insertDedupToken
  const instance = randomBytes(6).toString('hex')
  const counts: InsertCounts = {failedInserts: 0, insertedRows: 0, inserts: 0}
  const sizes = hdr.build({highestTrackableValue: 100_000_000, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3})

  const onInsert = (outcome: InsertOutcome) => {
    metrics.insertSeconds.observe(outcome.durationMs / 1000)
    metrics.insertRows.observe(outcome.rows)
    if (outcome.error === undefined) {
      counts.inserts++
      counts.insertedRows += outcome.rows
      sizes.recordValue(outcome.rows)
      metrics.inserts.inc({result: 'ok'})
    } else {
      counts.failedInserts++
      metrics.inserts.inc({result: 'error'})
      // The store's own errors (refused credentials, an unreachable server) say that it is down.
      if ((outcome.error as Error)?.name === 'LogbenchError') liveness.markDown(outcome.error)
      else log(`insert of ${outcome.rows} rows failed: ${messageOf(outcome.error)}`)
    }
  }

  // The requests' encoded rows are merged into one insert body; all of them go back to the pool
  // once the insert has settled (nothing reads them after that).
  const writeBatch = async (chunks: Buffer[], info: {rows: number; bytes: number; id: number}) => {
    let body = chunks[0]
    if (chunks.length > 1) {
      body = pool.acquire(info.bytes).subarray(0, info.bytes)
      let at = 0
      for (const chunk of chunks) {
        chunk.copy(body, at)
        at += chunk.length
        pool.release(chunk)
      }
    }

    try {
      await store.insert(body, {dedupToken: dedupTokens ? `logbench-${instance}-${info.id}` : undefined, format})
    } finally {
      pool.release(body)
    }
  }

  const batcher = new Batcher(writeBatch, options.batch, onInsert)
  return {
    batcher,
    counts,
    rowsPerInsert: () => ({max: sizes.maxValue, p50: sizes.getValueAtPercentile(50), p99: sizes.getValueAtPercentile(99)}),
    updateBufferGauges() {
      const state = batcher.state
      metrics.bufferRows.set(state.rows)
      metrics.bufferBytes.set(state.bytes)
      metrics.bufferFill.set(Math.max(state.rows / state.maxRows, state.bytes / state.maxBytes))
    },
  }
}
