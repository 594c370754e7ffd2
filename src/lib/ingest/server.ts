import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import type {Store} from '../store/index.js'

import {messageOf} from '../errors.js'
import {Batcher, type BatcherOptions, DEFAULT_BATCHER_OPTIONS, type InsertOutcome} from './batcher.js'
import {IdempotencyCache} from './idempotency.js'
import {IngestMetrics} from './metrics.js'
import {type BodyFormat, DEFAULT_LIMITS, type EncodeContext, type EncodeResult, encodeEntries, parseBody, type ValidationDetail, type ValidationLimits} from './validate.js'

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
  limits?: Partial<ValidationLimits>
  batch?: Partial<BatcherOptions>
  /** Seconds announced in Retry-After on 503 (default 1). */
  retryAfterSeconds?: number
  /** Read-only reports mounted at GET /api/reports/<name> (behind the token too, when one is set). */
  reports?: (name: string, params: URLSearchParams) => Promise<{status: number; body: unknown}>
  log?: (line: string) => void
}

export interface IngestStats {
  accepted: number
  rejectedRequests: number
  inserts: number
  failedInserts: number
  insertedRows: number
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

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/json-seq'])

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

/** Parse, validate and encode a request body. */
export function encode(text: string, format: BodyFormat, ctx: EncodeContext): EncodeResult {
  const parsed = parseBody(text, format)
  if ('error' in parsed) return {details: parsed.details, error: parsed.error, ok: false, status: 400}
  return encodeEntries(parsed.entries, ctx)
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
  const stats: IngestStats = {accepted: 0, failedInserts: 0, insertedRows: 0, inserts: 0, rejectedRequests: 0}
  const log = options.log ?? (() => {})

  let storeUp = true
  let probing = false
  let shuttingDown = false
  const active = new Set<Promise<void>>()
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

  const onInsert = (outcome: InsertOutcome) => {
    metrics.insertSeconds.observe(outcome.durationMs / 1000)
    metrics.insertRows.observe(outcome.rows)
    if (outcome.error === undefined) {
      stats.inserts++
      stats.insertedRows += outcome.rows
      metrics.inserts.inc({result: 'ok'})
    } else {
      stats.failedInserts++
      metrics.inserts.inc({result: 'error'})
      if ((outcome.error as Error)?.name === 'LogbenchError') markDown(outcome.error)
      else log(`insert of ${outcome.rows} rows failed: ${messageOf(outcome.error)}`)
    }
  }

  const batcher = new Batcher(
    (chunks, info) =>
      store.insert(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, info.bytes), {
        dedupToken: caps.insertDedupToken ? `logbench-${instance}-${info.id}` : undefined,
      }),
    batchOptions,
    onInsert,
  )

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

  async function ingest(req: http.IncomingMessage, body: Buffer): Promise<Reply> {
    const format = formatOf(req.headers['content-type'])
    if (!format) {
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
    const idempotencyKey = typeof key === 'string' && key !== '' ? key.slice(0, 200) : undefined
    if (idempotencyKey) {
      const known = keys.get(idempotencyKey)
      if (known) {
        const accepted = known.state === 'committed' ? known.accepted : await known.done.catch(() => -1)
        if (accepted >= 0) {
          metrics.duplicates.inc()
          return {body: {accepted, replayed: true}, status: 202}
        }
      }
    }

    const encoded = encode(body.toString('utf8'), format, {batchId: idempotencyKey ?? '', caps, limits, now: Date.now()})
    if (!encoded.ok) {
      metrics.rejected.inc({reason: 'invalid'})
      return {body: errorBody(encoded.error, encoded.details), status: 400}
    }

    if (!storeUp) return unavailable('store_unavailable', 'storage is unavailable; retry later')
    const offer = batcher.offer(Buffer.from(encoded.encoded), encoded.rows)
    updateBufferGauges()
    if (!offer.ok) {
      return offer.reason === 'full'
        ? unavailable('overloaded', 'ingest buffer is full; retry later')
        : unavailable('shutting_down', 'server is shutting down')
    }

    const done = offer.committed.then(() => encoded.rows)
    if (idempotencyKey) keys.track(idempotencyKey, done)
    try {
      await done
    } catch (error) {
      updateBufferGauges()
      return unavailable(storeUp ? 'insert_failed' : 'store_unavailable', `insert failed, nothing from this request was stored: ${messageOf(error)}`)
    }

    updateBufferGauges()
    stats.accepted += encoded.rows
    metrics.accepted.inc(encoded.rows)
    return {body: {accepted: encoded.rows}, status: 202}
  }

  async function health(): Promise<Reply> {
    const reachable = await store.ping()
    const state = batcher.state
    return {
      body: {
        buffer: {bytes: state.bytes, insertsRunning: state.insertsRunning, maxBytes: state.maxBytes, maxRows: state.maxRows, rows: state.rows},
        memory: (({arrayBuffers, external, heapTotal, heapUsed, rss}) => ({arrayBuffers, external, heapTotal, heapUsed, rss}))(process.memoryUsage()),
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

  function readBody(req: http.IncomingMessage): Promise<Buffer | 'too_large'> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'])
      if (declared > maxBodyBytes) {
        resolve('too_large')
        return
      }

      const chunks: Buffer[] = []
      let size = 0
      let over = false
      req.on('data', (chunk: Buffer) => {
        if (over) return
        size += chunk.length
        if (size > maxBodyBytes) {
          over = true
          chunks.length = 0
          resolve('too_large')
          return
        }

        chunks.push(chunk)
      })
      req.on('end', () => {
        if (!over) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
      })
      req.on('error', reject)
    })
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const route = url.pathname.replace(/\/+$/, '') || '/'
    const isIngest = req.method === 'POST' && (route === '/api/logs' || route === '/api/logs/batch')
    if ((isIngest || route.startsWith('/api/reports/')) && options.token !== undefined && !tokenMatches(req.headers.authorization, options.token)) {
      metrics.rejected.inc({reason: 'unauthorized'})
      req.resume()
      send(res, {body: errorBody('missing or wrong bearer token'), headers: {'www-authenticate': 'Bearer'}, status: 401})
      return
    }

    if (isIngest) {
      if (shuttingDown) {
        req.resume()
        send(res, unavailable('shutting_down', 'server is shutting down'))
        return
      }

      const body = await readBody(req)
      if (body === 'too_large') {
        metrics.rejected.inc({reason: 'too_large'})
        send(res, {body: errorBody(`body larger than ${maxBodyBytes} bytes: send smaller batches`), headers: {connection: 'close'}, status: 413})
        // Stop reading the rest of an oversized body; the connection closes after the answer.
        req.unpipe()
        res.on('finish', () => req.destroy())
        return
      }

      send(res, await ingest(req, body))
      return
    }

    if (req.method === 'GET' || req.method === 'HEAD') {
      if (route === '/health') return send(res, await health())
      if (route === '/metrics') {
        updateBufferGauges()
        return send(res, {body: await metrics.registry.metrics(), status: 200})
      }

      if (route.startsWith('/api/reports/') && options.reports) {
        const reply = await options.reports(decodeURIComponent(route.slice('/api/reports/'.length)), url.searchParams)
        return send(res, reply)
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
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      // Every request already started is answered (its rows flushed) before the batcher closes.
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
    stats: () => ({...stats}),
    stop,
    url: `http://${host}:${address.port}`,
  }
}
