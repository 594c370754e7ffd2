/**
 * Admission of a request to the insert path: what is refused from its headers
 * alone (before a byte of the body is read), then the body parsed, validated,
 * encoded and handed to the batcher, and the answer once its rows are committed.
 * A retried Idempotency-Key is answered from the key cache instead.
 */
import type http from 'node:http'

import type {Capabilities} from '../store/index.js'
import type {BufferPool} from './buffer-pool.js'
import type {IdempotencyCache} from './idempotency.js'
import type {Inserts} from './inserts.js'
import type {IngestMetrics} from './metrics.js'
import type {RowWriter} from './row-format.js'
import type {StoreLiveness} from './store-liveness.js'

import {messageOf} from '../errors.js'
import {encodeBody} from './encode-body.js'
import {errorBody, type Reply} from './reply.js'
import {type BodyFormat, type ValidationLimits} from './validate.js'

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'])
/** Idempotency-Key values longer than this are refused (400), never cut (two keys would collide). */
const MAX_KEY_LENGTH = 200

export function formatOf(contentType: string | undefined): BodyFormat | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase()
  if (JSON_TYPES.test(type)) return 'json'
  if (NDJSON_TYPES.has(type)) return 'ndjson'
  return undefined
}

export interface AdmissionOptions {
  caps: Capabilities
  limits: ValidationLimits
  inserts: Inserts
  keys: IdempotencyCache
  liveness: StoreLiveness
  metrics: IngestMetrics
  pool: BufferPool
  writer: RowWriter
  /** Seconds announced in Retry-After on 503. */
  retryAfterSeconds: number
  /** True once serve is stopping. */
  closing: () => boolean
}

export class Admission {
  /** Logs committed and acknowledged. */
  accepted = 0
  private readonly retryAfter: string

  constructor(private readonly options: AdmissionOptions) {
    this.retryAfter = String(options.retryAfterSeconds)
  }

  /** 503 with Retry-After, counted under `reason`. */
  unavailable(reason: string, message: string): Reply {
    this.options.metrics.rejected.inc({reason})
    return {body: errorBody(message), headers: {'retry-after': this.retryAfter}, status: 503}
  }

  /** What can be refused before a byte of the body is read. */
  refuseEarly(req: http.IncomingMessage): Reply | undefined {
    const {inserts, liveness, metrics} = this.options
    if (!formatOf(req.headers['content-type'])) {
      metrics.rejected.inc({reason: 'unsupported_type'})
      return {
        body: errorBody(`unsupported content type "${req.headers['content-type'] ?? ''}": send application/json or application/x-ndjson`),
        status: 415,
      }
    }

    const encoding = req.headers['content-encoding']
    if (encoding && encoding !== 'identity') {
      metrics.rejected.inc({reason: 'unsupported_type'})
      return {body: errorBody(`unsupported content encoding "${encoding}": send the body uncompressed`), status: 415}
    }

    const key = req.headers['idempotency-key']
    if (typeof key === 'string' && key.length > MAX_KEY_LENGTH) {
      metrics.rejected.inc({reason: 'invalid'})
      return {body: errorBody(`Idempotency-Key longer than ${MAX_KEY_LENGTH} characters`), status: 400}
    }

    if (this.options.closing()) return this.unavailable('shutting_down', 'server is shutting down')
    if (!liveness.up) return this.unavailable('store_unavailable', 'storage is unavailable; retry later')
    const state = inserts.batcher.state
    if (state.rows >= state.maxRows || state.bytes >= state.maxBytes) return this.unavailable('overloaded', 'ingest buffer is full; retry later')
    return undefined
  }

  /** The answer to a request whose body was read: once its rows are committed, or why not. */
  async ingest(req: http.IncomingMessage, body: Buffer): Promise<Reply> {
    const {inserts, keys, metrics, pool} = this.options
    const format = formatOf(req.headers['content-type'])!
    const header = req.headers['idempotency-key']
    const key = typeof header === 'string' && header !== '' ? header : undefined
    // A retry of a committed key is answered again; one of a key in flight waits for that attempt,
    // and when it failed looks again, so of several waiting retries exactly one tries anew: the
    // first to find the key gone tracks its own attempt before any other looks (no await between).
    let failed: Promise<number> | undefined
    for (let known = key === undefined ? undefined : keys.get(key); known; known = keys.get(key!)) {
      if (known.state === 'committed') {
        metrics.duplicates.inc()
        return {body: {accepted: known.accepted, replayed: true}, status: 202}
      }

      if (known.done === failed) break
      metrics.keyWaits.inc()
      const accepted = await known.done.catch(() => -1)
      metrics.keyWaits.dec()
      if (accepted >= 0) {
        metrics.duplicates.inc()
        return {body: {accepted, replayed: true}, status: 202}
      }

      failed = known.done
    }

    const admitted = this.admit(body, format, key)
    // Only the encoded rows outlive admit: the body goes back to the pool.
    pool.release(body)
    if (!('committed' in admitted)) return admitted
    try {
      await admitted.committed
    } catch (error) {
      inserts.updateBufferGauges()
      return this.unavailable(this.options.liveness.up ? 'insert_failed' : 'store_unavailable', `insert failed, nothing from this request was stored: ${messageOf(error)}`)
    }

    inserts.updateBufferGauges()
    this.accepted += admitted.rows
    metrics.accepted.inc(admitted.rows)
    return {body: {accepted: admitted.rows}, status: 202}
  }

  /**
   * Parse, validate, encode and hand the rows to the batcher in one synchronous step, so
   * that only the encoded Buffer outlives it while the request waits for its commit.
   */
  private admit(body: Buffer, format: BodyFormat, key: string | undefined): Reply | {committed: Promise<number>; rows: number} {
    const {caps, inserts, keys, limits, liveness, metrics, writer} = this.options
    const encoded = encodeBody(body, format, {batchId: key ?? '', caps, limits, now: Date.now()}, writer)
    if (!encoded.ok) {
      metrics.rejected.inc({reason: 'invalid'})
      return {body: errorBody(encoded.error, encoded.details), status: 400}
    }

    if (!liveness.up) return this.unavailable('store_unavailable', 'storage is unavailable; retry later')
    const offer = inserts.batcher.offer(encoded.encoded, encoded.rows)
    inserts.updateBufferGauges()
    if (!offer.ok) {
      return offer.reason === 'full' ? this.unavailable('overloaded', 'ingest buffer is full; retry later') : this.unavailable('shutting_down', 'server is shutting down')
    }

    const {rows} = encoded
    const committed = offer.committed.then(() => rows)
    if (key) keys.track(key, committed)
    return {committed, rows}
  }
}
