/**
 * serve's HTTP server: puts the parts together (store liveness, the insert
 * path, admission, body reading, routes), listens, and stops in order:
 * refuse new requests, answer those in flight, flush, close.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import type {InsertFormat, Store} from '../store/index.js'

import {messageOf} from '../errors.js'
import {checkAccess} from './access.js'
import {Admission} from './admission.js'
import {type BatcherOptions, DEFAULT_BATCHER_OPTIONS} from './batcher.js'
import {BodyReader} from './body-reader.js'
import {BufferPool} from './buffer-pool.js'
import {healthReply} from './health.js'
import {IdempotencyCache} from './idempotency.js'
import {createInserts} from './inserts.js'
import {DEFAULT_LINGER_LIMITS, type LingerLimits, LingeringCloses} from './lingering-close.js'
import {IngestMetrics} from './metrics.js'
import {errorBody, Responder} from './reply.js'
import {routeRequests} from './routes.js'
import {insertFormatFor, makeRowWriter} from './row-format.js'
import {StoreLiveness} from './store-liveness.js'
import {DEFAULT_LIMITS, type ValidationLimits} from './validate.js'

export {SERVICE_NAME} from './health.js'

export interface IngestServerOptions {
  store: Store
  /** Default 127.0.0.1: never all interfaces unless asked. */
  host?: string
  /** Default 3000; 0 picks a free port. */
  port?: number
  /** Bearer token required, when set, on every route but /health (which then gives its details only with it). */
  token?: string
  /**
   * Serve without a token on an address other than loopback, on purpose. Without it, such a host
   * and no token is refused (a usage error): anyone who could reach serve could write and read.
   */
  openAccess?: boolean
  /** Largest request body in bytes (default 10 MB). */
  maxBodyBytes?: number
  /** Bytes of request bodies being received at once, all requests together (default 64 MiB); past it, 503. */
  maxReadingBytes?: number
  /** Connections accepted at once (default 4096). */
  maxConnections?: number
  /** Milliseconds stop() lets unfinished uploads go on before cutting them off (default 10 s). */
  stopGraceMs?: number
  /**
   * After an answer sent before the body was read (413, 401, 415, 503 ...), how much of the rest of
   * the body is read and discarded before the connection is cut (default 64 MiB, 30 s).
   */
  linger?: Partial<LingerLimits>
  limits?: Partial<ValidationLimits>
  batch?: Partial<BatcherOptions>
  /** Seconds announced in Retry-After on 503 (default 1). */
  retryAfterSeconds?: number
  /** Read-only reports mounted at GET /api/reports/<name>. */
  reports?: (name: string, params: URLSearchParams) => Promise<{status: number; body: unknown}>
  /** Read-only verification of runs at POST /api/verify. */
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

export async function startIngestServer(options: IngestServerOptions): Promise<IngestServer> {
  const {store} = options
  await checkAccess({host: options.host ?? '127.0.0.1', open: options.openAccess, token: options.token})
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024
  const metrics = new IngestMetrics()
  const log = options.log ?? (() => {})
  const insertFormat = options.insertFormat ?? (await insertFormatFor(store))
  const pool = new BufferPool()
  let shuttingDown = false
  const closing = () => shuttingDown

  const liveness = new StoreLiveness(store, {log, onChange: (up) => metrics.storeUp.set(up ? 1 : 0)})
  const inserts = createInserts({batch: {...DEFAULT_BATCHER_OPTIONS, ...options.batch}, format: insertFormat, liveness, log, metrics, pool, store})
  const admission = new Admission({
    caps: store.info.capabilities,
    closing,
    inserts,
    keys: new IdempotencyCache(),
    limits: {...DEFAULT_LIMITS, ...options.limits},
    liveness,
    metrics,
    pool,
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    writer: makeRowWriter(insertFormat, store.info.capabilities, pool),
  })
  const bodies = new BodyReader(maxBodyBytes, options.maxReadingBytes ?? Math.max(64 * 1024 * 1024, 2 * maxBodyBytes), pool)
  const lingering = new LingeringCloses({...DEFAULT_LINGER_LIMITS, ...options.linger}, (how, discarded) => {
    metrics.lingeringCloses.inc({end: how})
    metrics.discardedBytes.inc(discarded)
  })
  const responder = new Responder(metrics, lingering, closing)
  metrics.sources.readingBytes = () => bodies.reservedBytes
  metrics.sources.lingering = () => lingering.size
  const handle = routeRequests({
    admission,
    bodies,
    health: (details) => healthReply(store, liveness, inserts.batcher, closing, details),
    metrics,
    async metricsText() {
      inserts.updateBufferGauges()
      return metrics.registry.metrics()
    },
    reports: options.reports,
    responder,
    token: options.token,
    verify: options.verify,
  })

  const active = new Set<Promise<void>>()
  const dispatch = (expectsContinue: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const task = handle(req, res, expectsContinue).catch((error: unknown) => {
      log(`request failed: ${messageOf(error)}`)
      if (!res.headersSent) responder.send(req, res, {body: errorBody(`internal error: ${messageOf(error)}`), status: 500})
      else res.destroy()
    })
    active.add(task)
    void task.finally(() => active.delete(task))
  }

  const server = http.createServer(dispatch(false))
  // "Expect: 100-continue": the routes send "100 Continue" only for a body they are going to read.
  server.on('checkContinue', dispatch(true))
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
      liveness.stop()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      // Every request already started is answered (its rows flushed) before the batcher closes.
      // An upload still unfinished after the grace period holds no rows: it is cut off, so one
      // stalled client cannot hold the shutdown forever. So is the rest of a refused body.
      const grace = new Promise((resolve) => setTimeout(resolve, options.stopGraceMs ?? 10_000).unref())
      await Promise.race([Promise.allSettled([...active, lingering.settled()]), grace])
      bodies.cutAll()
      lingering.cutAll()
      while (active.size > 0) await Promise.allSettled([...active])
      await inserts.batcher.drain()
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
      accepted: admission.accepted,
      failedInserts: inserts.counts.failedInserts,
      insertedRows: inserts.counts.insertedRows,
      inserts: inserts.counts.inserts,
      rejectedRequests: responder.rejectedRequests,
      rowsPerInsert: inserts.rowsPerInsert(),
    }),
    stop,
    url: `http://${host}:${address.port}`,
  }
}
