import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import * as hdr from 'hdr-histogram-js'
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import type {Store} from '../store/index.js'

import {messageOf} from '../errors.js'
import {Batcher, type BatcherOptions, DEFAULT_BATCHER_OPTIONS, type InsertOutcome} from './batcher.js'
import {IdempotencyCache} from './idempotency.js'
import {IngestMetrics} from './metrics.js'
import type {InsertFormat} from '../store/index.js'

import {BufferPool} from './buffer-pool.js'
import {encodeBody} from './encode-body.js'
import {insertFormatFor, makeRowWriter} from './row-format.js'
import {type BodyFormat, DEFAULT_LIMITS, type ValidationDetail, type ValidationLimits} from './validate.js'

export interface IngestServerOptions {
  store: Store
  /** Default 127.0.0.1: never all interfaces unless asked. */
  host?: string
  /** Default 3000; 0 picks a free port. */
  port?: number
  /** Bearer token required on ingest requests when set. */
  token?: string
  /** Largest request body in bytes (default 10 MB). */
  maxBodyBytes?: number
  /** Bytes of request bodies being received at once, all requests together (default 64 MiB); past it, 503. */
  maxReadingBytes?: number
  /** Connections accepted at once (default 4096). */
  maxConnections?: number
  /** Milliseconds stop() lets unfinished uploads go on before cutting them off (default 10 s). */
  stopGraceMs?: number
  limits?: Partial<ValidationLimits>
  batch?: Partial<BatcherOptions>
  /** Seconds announced in Retry-After on 503 (default 1). */
  retryAfterSeconds?: number
  /** Read-only reports mounted at GET /api/reports/<name> (behind the token too, when one is set). */
  reports?: (name: string, params: URLSearchParams) => Promise<{status: number; body: unknown}>
  /** Read-only verification of runs at POST /api/verify (behind the token too, when one is set). */
  verify?: (req: http.IncomingMessage) => Promise<{status: number; body: unknown}>
  log?: (line: string) => void
  /** Insert format (default: RowBinary where the store and table take it, else JSONEachRow). */
  insertFormat?: InsertFormat
}

export interface IngestStats {
  accepted: number
  rejectedRequests: number
  inserts: number
  failedInserts: number
  insertedRows: number
  /** Rows per INSERT statement (committed ones), by percentile. */
  rowsPerInsert: {p50: number; p99: number; max: number}
}

export interface IngestServer {
  /** http://host:port of the listening socket. */
  url: string
  host: string
  port: number
  metrics: IngestMetrics
  stats(): IngestStats
  /** Stop accepting, answer every request in flight, flush, close. Idempotent. */
  stop(): Promise<void>
}

/** What GET /health names itself: how a run knows that its target is a logbench serve. */
import {SERVICE_NAME} from '../verify/route.js'

export {SERVICE_NAME}

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'])
/** Idempotency-Key values longer than this are refused (400), never cut (two keys would collide). */
const MAX_KEY_LENGTH = 200

interface Reply {
  status: number
  body: unknown
  headers?: Record<string, string>
}

function formatOf(contentType: string | undefined): BodyFormat | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase()
  if (JSON_TYPES.test(type)) return 'json'
  if (NDJSON_TYPES.has(type)) return 'ndjson'
  return undefined
}

function errorBody(error: string, details: ValidationDetail[] = []): {error: string; details: ValidationDetail[]} {
  return {details, error}
}

/** Constant-time comparison of a presented bearer token with the configured one. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? ''
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b) && presented.length > 0
}

export async function startIngestServer(options: IngestServerOptions): Promise<IngestServer> {
  const {store} = options
  const limits: ValidationLimits = {...DEFAULT_LIMITS, ...options.limits}
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024
  const retryAfter = String(options.retryAfterSeconds ?? 1)
  const batchOptions: BatcherOptions = {...DEFAULT_BATCHER_OPTIONS, ...options.batch}
  const metrics = new IngestMetrics()
  const keys = new IdempotencyCache()
  const caps = store.info.capabilities
  const instance = randomBytes(6).toString('hex')
  const stats: Omit<IngestStats, 'rowsPerInsert'> = {accepted: 0, failedInserts: 0, insertedRows: 0, inserts: 0, rejectedRequests: 0}
  const insertSizes = hdr.build({highestTrackableValue: 100_000_000, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3})
  const log = options.log ?? (() => {})
  const insertFormat = options.insertFormat ?? (await insertFormatFor(store))
  const pool = new BufferPool()
  const writer = makeRowWriter(insertFormat, caps, pool)

  let storeUp = true
  let probing = false
  let shuttingDown = false
  const active = new Set<Promise<void>>()
  const reading = new Set<http.IncomingMessage>()
  let bytesReading = 0
  const maxReadingBytes = options.maxReadingBytes ?? Math.max(64 * 1024 * 1024, 2 * maxBodyBytes)
  metrics.storeUp.set(1)

  // The store is known to be down after a failed insert that never reached it: refuse at once
  // and probe until it answers again, without restarting anything.
  const markDown = (error: unknown) => {
    if (!storeUp) return
    storeUp = false
    metrics.storeUp.set(0)
    log(`store unavailable: ${messageOf(error)}; answering 503 until it is back`)
    if (probing) return
    probing = true
    const probe = async () => {
      while (!storeUp && !shuttingDown) {
        await new Promise((resolve) => setTimeout(resolve, 500))
        if (await store.ping()) {
          storeUp = true
          metrics.storeUp.set(1)
          log('store reachable again')
        }
      }

      probing = false
    }

    void probe()
  }

  // A store that stops answering (a paused server, a network partition) is noticed without
  // waiting for an insert to time out: new requests then get 503 at once.
  const watchdog = setInterval(async () => {
    if (storeUp && !shuttingDown && !(await store.ping())) markDown(new Error('the store did not answer a ping'))
  }, 2000)
  watchdog.unref()

  const onInsert = (outcome: InsertOutcome) => {
    metrics.insertSeconds.observe(outcome.durationMs / 1000)
    metrics.insertRows.observe(outcome.rows)
    if (outcome.error === undefined) {
      stats.inserts++
      stats.insertedRows += outcome.rows
      insertSizes.recordValue(outcome.rows)
      metrics.inserts.inc({result: 'ok'})
    } else {
      stats.failedInserts++
      metrics.inserts.inc({result: 'error'})
      if ((outcome.error as Error)?.name === 'LogbenchError') markDown(outcome.error)
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
      await store.insert(body, {dedupToken: caps.insertDedupToken ? `logbench-${instance}-${info.id}` : undefined, format: insertFormat})
    } finally {
      pool.release(body)
    }
  }

  const batcher = new Batcher(writeBatch, batchOptions, onInsert)

  const updateBufferGauges = () => {
    const state = batcher.state
    metrics.bufferRows.set(state.rows)
    metrics.bufferBytes.set(state.bytes)
    metrics.bufferFill.set(Math.max(state.rows / state.maxRows, state.bytes / state.maxBytes))
  }

  const unavailable = (reason: string, message: string): Reply => {
    metrics.rejected.inc({reason})
    return {body: errorBody(message), headers: {'retry-after': retryAfter}, status: 503}
  }

  /** What can be refused before a byte of the body is read. */
  function refuseEarly(req: http.IncomingMessage): Reply | undefined {
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

    if (shuttingDown) return unavailable('shutting_down', 'server is shutting down')
    if (!storeUp) return unavailable('store_unavailable', 'storage is unavailable; retry later')
    const state = batcher.state
    if (state.rows >= state.maxRows || state.bytes >= state.maxBytes) return unavailable('overloaded', 'ingest buffer is full; retry later')
    return undefined
  }

  /**
   * Parse, validate, encode and hand the rows to the batcher in one synchronous step, so
   * that only the encoded Buffer outlives it while the request waits for its commit.
   */
  function admit(body: Buffer, format: BodyFormat, key: string | undefined): Reply | {committed: Promise<number>; rows: number} {
    const encoded = encodeBody(body, format, {batchId: key ?? '', caps, limits, now: Date.now()}, writer)
    if (!encoded.ok) {
      metrics.rejected.inc({reason: 'invalid'})
      return {body: errorBody(encoded.error, encoded.details), status: 400}
    }

    if (!storeUp) return unavailable('store_unavailable', 'storage is unavailable; retry later')
    const offer = batcher.offer(encoded.encoded, encoded.rows)
    updateBufferGauges()
    if (!offer.ok) {
      return offer.reason === 'full' ? unavailable('overloaded', 'ingest buffer is full; retry later') : unavailable('shutting_down', 'server is shutting down')
    }

    const {rows} = encoded
    const committed = offer.committed.then(() => rows)
    if (key) keys.track(key, committed)
    return {committed, rows}
  }

  async function ingest(req: http.IncomingMessage, body: Buffer): Promise<Reply> {
    const format = formatOf(req.headers['content-type'])!
    const header = req.headers['idempotency-key']
    const key = typeof header === 'string' && header !== '' ? header : undefined
    // A retry of a committed key is answered again; one of a key in flight waits for that attempt,
    // and when it failed looks again, so of several waiting retries exactly one tries anew.
    let failed: Promise<number> | undefined
    for (let known = key ? keys.get(key) : undefined; known; known = keys.get(key!)) {
      if (known.state === 'committed') {
        metrics.duplicates.inc()
        return {body: {accepted: known.accepted, replayed: true}, status: 202}
      }

      if (known.done === failed) break
      const accepted = await known.done.catch(() => -1)
      if (accepted >= 0) {
        metrics.duplicates.inc()
        return {body: {accepted, replayed: true}, status: 202}
      }

      failed = known.done
    }

    const admitted = admit(body, format, key)
    // Only the encoded rows outlive admit: the body goes back to the pool.
    pool.release(body)
    if (!('committed' in admitted)) return admitted
    try {
      await admitted.committed
    } catch (error) {
      updateBufferGauges()
      return unavailable(storeUp ? 'insert_failed' : 'store_unavailable', `insert failed, nothing from this request was stored: ${messageOf(error)}`)
    }

    updateBufferGauges()
    stats.accepted += admitted.rows
    metrics.accepted.inc(admitted.rows)
    return {body: {accepted: admitted.rows}, status: 202}
  }

  async function health(): Promise<Reply> {
    const reachable = await store.ping()
    if (!reachable) markDown(new Error('the store did not answer a ping'))
    const state = batcher.state
    return {
      body: {
        buffer: {bytes: state.bytes, insertsRunning: state.insertsRunning, maxBytes: state.maxBytes, maxRows: state.maxRows, rows: state.rows},
        memory: (({arrayBuffers, external, heapTotal, heapUsed, rss}) => ({arrayBuffers, external, heapTotal, heapUsed, rss}))(process.memoryUsage()),
        service: SERVICE_NAME,
        status: reachable && !shuttingDown ? 'ok' : 'unavailable',
        store: {
          database: store.info.database,
          kind: store.info.kind,
          location: store.info.location,
          reachable,
          table: store.info.table,
          version: store.info.version.text,
        },
      },
      status: reachable && !shuttingDown ? 200 : 503,
    }
  }

  function send(res: http.ServerResponse, reply: Reply): void {
    metrics.requests.inc({status: String(reply.status)})
    if (reply.status >= 400 && reply.status !== 404) stats.rejectedRequests++
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
    const headers: Record<string, string | number> = {
      'content-length': Buffer.byteLength(text),
      'content-type': typeof reply.body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json',
      ...reply.headers,
    }
    if (shuttingDown) headers.connection = 'close'
    res.writeHead(reply.status, headers)
    res.end(text)
  }

  /**
   * Read a body within two bounds: --max-body for this request, and a budget for all the
   * bodies being read at once, so many slow or large uploads cannot grow memory either.
   */
  function readBody(req: http.IncomingMessage): Promise<Buffer | 'too_large' | 'busy'> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'])
      if (declared > maxBodyBytes) {
        resolve('too_large')
        return
      }

      let reserved = 0
      const reserve = (bytes: number) => {
        if (bytesReading + bytes > maxReadingBytes && reserved + bytesReading > 0) return false
        bytesReading += bytes
        reserved += bytes
        return true
      }

      const release = () => {
        bytesReading -= reserved
        reserved = 0
        reading.delete(req)
      }

      if (declared > 0 && !reserve(declared)) {
        resolve('busy')
        return
      }

      reading.add(req)
      const chunks: Buffer[] = []
      // A declared length is read straight into one pooled buffer; a chunked body is gathered.
      let into = declared > 0 ? pool.acquire(declared) : undefined
      let size = 0
      let settled = false
      const finish = (value: Buffer | 'too_large' | 'busy' | Error) => {
        if (settled) return
        settled = true
        chunks.length = 0
        if (into && (typeof value === 'string' || value instanceof Error)) pool.release(into)
        into = undefined
        release()
        if (value instanceof Error) reject(value)
        else resolve(value)
      }

      req.on('data', (chunk: Buffer) => {
        if (settled) return
        if (into) {
          // The HTTP parser never passes more than Content-Length; refuse rather than assume it.
          if (size + chunk.length > declared) return finish(new Error('body longer than its Content-Length'))
          chunk.copy(into, size)
        } else chunks.push(chunk)
        size += chunk.length
        if (size > maxBodyBytes) return finish('too_large')
        if (size > reserved && !reserve(size - reserved)) return finish('busy')
      })
      req.on('end', () => {
        if (settled) return
        if (into) return finish(into.subarray(0, size))
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
        finish(body)
      })
      req.on('error', (error) => finish(error))
      req.on('close', () => finish(new Error('the client closed the connection before the body was complete')))
    })
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const route = url.pathname.replace(/\/+$/, '') || '/'
    const isIngest = req.method === 'POST' && (route === '/api/logs' || route === '/api/logs/batch')
    const isVerify = req.method === 'POST' && route === '/api/verify' && options.verify !== undefined
    if ((isIngest || isVerify || route.startsWith('/api/reports/')) && options.token !== undefined && !tokenMatches(req.headers.authorization, options.token)) {
      metrics.rejected.inc({reason: 'unauthorized'})
      req.resume()
      send(res, {body: errorBody('missing or wrong bearer token'), headers: {'www-authenticate': 'Bearer'}, status: 401})
      return
    }

    if (isIngest) {
      const early = refuseEarly(req)
      if (early) {
        req.resume()
        send(res, early)
        return
      }

      const body = await readBody(req)
      if (body === 'too_large' || body === 'busy') {
        const reply =
          body === 'too_large'
            ? {body: errorBody(`body larger than ${maxBodyBytes} bytes: send smaller batches`), status: 413}
            : unavailable('overloaded', 'too many request bodies being received at once; retry later')
        if (body === 'too_large') metrics.rejected.inc({reason: 'too_large'})
        // The rest of the body is not read: answer, then close the connection.
        send(res, {...reply, headers: {...reply.headers, connection: 'close'}})
        res.on('finish', () => req.destroy())
        return
      }

      send(res, await ingest(req, body))
      return
    }

    if (isVerify) return send(res, await options.verify!(req))
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (route === '/health') return send(res, await health())
      if (route === '/metrics') {
        updateBufferGauges()
        return send(res, {body: await metrics.registry.metrics(), status: 200})
      }

      if (route.startsWith('/api/reports/') && options.reports) {
        let name: string
        try {
          name = decodeURIComponent(route.slice('/api/reports/'.length))
        } catch {
          return send(res, {body: errorBody(`report name in ${route} is not valid percent-encoding`), status: 400})
        }

        return send(res, await options.reports(name, url.searchParams))
      }
    }

    req.resume()
    const known = ['/api/logs', '/api/logs/batch', '/health', '/metrics'].includes(route)
    send(res, known ? {body: errorBody(`method ${req.method} not allowed on ${route}`), status: 405} : {body: errorBody(`no route ${req.method} ${route}`), status: 404})
  }

  const server = http.createServer((req, res) => {
    const task = handle(req, res).catch((error: unknown) => {
      log(`request failed: ${messageOf(error)}`)
      if (!res.headersSent) send(res, {body: errorBody(`internal error: ${messageOf(error)}`), status: 500})
      else res.destroy()
    })
    active.add(task)
    void task.finally(() => active.delete(task))
  })
  server.maxConnections = options.maxConnections ?? 4096
  server.keepAliveTimeout = 10_000
  server.headersTimeout = 15_000
  server.requestTimeout = 120_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true
      clearInterval(watchdog)
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      // Every request already started is answered (its rows flushed) before the batcher closes.
      // An upload still unfinished after the grace period holds no rows: it is cut off, so one
      // stalled client cannot hold the shutdown forever.
      const grace = new Promise((resolve) => setTimeout(resolve, options.stopGraceMs ?? 10_000).unref())
      await Promise.race([Promise.allSettled([...active]), grace])
      for (const req of reading) req.socket.destroy()
      while (active.size > 0) await Promise.allSettled([...active])
      await batcher.drain()
      server.closeAllConnections()
      await closed
    })()
    return stopping
  }

  return {
    host: address.address,
    metrics,
    port: address.port,
    stats: () => ({
      ...stats,
      rowsPerInsert: {max: insertSizes.maxValue, p50: insertSizes.getValueAtPercentile(50), p99: insertSizes.getValueAtPercentile(99)},
    }),
    stop,
    url: `http://${host}:${address.port}`,
  }
}
