/**
 * Serve's routes: the bearer token on the guarded ones (all but /health), the ingest route
 * (refused from its headers, its body read within bounds, then admitted),
 * verification, health, metrics and the read-only reports.
 */
import type http from 'node:http'

import type {Admission} from './admission.js'
import type {BodyReader} from './body-reader.js'
import type {IngestMetrics} from './metrics.js'

import {tokenMatches} from './access.js'
import {errorBody, type Reply, type Responder} from './reply.js'

export interface RouteOptions {
  token?: string
  reports?: (name: string, params: URLSearchParams) => Promise<{status: number; body: unknown}>
  verify?: (req: http.IncomingMessage) => Promise<{status: number; body: unknown}>
  admission: Admission
  bodies: BodyReader
  responder: Responder
  metrics: IngestMetrics
  /** GET /health; `details`: with the store, buffer and memory (else whether serve is up, and its name). */
  health: (details: boolean) => Promise<Reply>
  /** The Prometheus text of /metrics. */
  metricsText: () => Promise<string>
}

const KNOWN_ROUTES = new Set(['/api/logs', '/api/logs/batch', '/health', '/metrics'])

/**
 * The request handler. `expectsContinue`: the client sent `Expect: 100-continue` and waits for
 * "100 Continue" before its body, which is sent only when the body is going to be read; an answer
 * decided from the headers alone goes instead, and the client need not send the body at all.
 * Every answer sent before the body was read closes the connection after a lingering close (reply.ts).
 */
export function routeRequests(options: RouteOptions): (req: http.IncomingMessage, res: http.ServerResponse, expectsContinue?: boolean) => Promise<void> {
  const {admission, bodies, metrics, responder, token} = options
  const send = (req: http.IncomingMessage, res: http.ServerResponse, reply: Reply) => responder.send(req, res, reply)

  return async function handle(req, res, expectsContinue = false) {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const route = url.pathname.replace(/\/+$/, '') || '/'
    const isIngest = req.method === 'POST' && (route === '/api/logs' || route === '/api/logs/batch')
    const isVerify = req.method === 'POST' && route === '/api/verify' && options.verify !== undefined
    // The token guards writing and everything that reads the store or serve's figures; /health stays
    // open for probes (its details only to the token's holder).
    const guarded = isIngest || isVerify || route === '/metrics' || route.startsWith('/api/reports/')
    if (guarded && token !== undefined && !tokenMatches(req.headers.authorization, token)) {
      metrics.rejected.inc({reason: 'unauthorized'})
      send(req, res, {body: errorBody('missing or wrong bearer token'), headers: {'www-authenticate': 'Bearer'}, status: 401})
      return
    }

    if (isIngest) {
      const early = admission.refuseEarly(req)
      if (early) {
        send(req, res, early)
        return
      }

      const body = await bodies.read(req, expectsContinue ? () => res.writeContinue() : undefined)
      if (body === 'too_large' || body === 'busy') {
        const reply =
          body === 'too_large'
            ? {body: errorBody(`body larger than ${bodies.maxBodyBytes} bytes: send smaller batches`), status: 413}
            : admission.unavailable('overloaded', 'too many request bodies being received at once; retry later')
        if (body === 'too_large') metrics.rejected.inc({reason: 'too_large'})
        // The rest of the body is read and discarded after the answer (a lingering close).
        send(req, res, reply)
        return
      }

      send(req, res, await admission.ingest(req, body))
      return
    }

    if (isVerify) {
      if (expectsContinue) res.writeContinue()
      return send(req, res, await options.verify!(req))
    }

    if (req.method === 'GET' || req.method === 'HEAD') {
      if (route === '/health') return send(req, res, await options.health(token === undefined || tokenMatches(req.headers.authorization, token)))
      if (route === '/metrics') return send(req, res, {body: await options.metricsText(), status: 200})
      if (route.startsWith('/api/reports/') && options.reports) {
        let name: string
        try {
          name = decodeURIComponent(route.slice('/api/reports/'.length))
        } catch {
          return send(req, res, {body: errorBody(`report name in ${route} is not valid percent-encoding`), status: 400})
        }

        return send(req, res, await options.reports(name, url.searchParams))
      }
    }

    send(req, res, KNOWN_ROUTES.has(route) ? {body: errorBody(`method ${req.method} not allowed on ${route}`), status: 405} : {body: errorBody(`no route ${req.method} ${route}`), status: 404})
  }
}
