/** What serve answers, and how an answer is written and counted. */
import type http from 'node:http'

import {hasBody} from './lingering-close.js'

import type {LingeringCloses} from './lingering-close.js'
import type {IngestMetrics} from './metrics.js'
import type {ValidationDetail} from './validate.js'

export interface Reply {
  status: number
  body: unknown
  headers?: Record<string, string>
}

export function errorBody(error: string, details: ValidationDetail[] = []): {error: string; details: ValidationDetail[]} {
  return {details, error}
}

/**
 * Writes every answer: counted by status, JSON (or Prometheus text for a string body). An answer
 * sent before the request's body was read to its end closes the connection, after a lingering close.
 */
export class Responder {
  /** Requests answered with an error status other than 404. */
  rejectedRequests = 0

  constructor(
    private readonly metrics: IngestMetrics,
    private readonly lingering: LingeringCloses,
    /** True once serve is stopping: every answer then closes its connection. */
    private readonly closing: () => boolean,
  ) {}

  send(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): void {
    this.metrics.requests.inc({status: String(reply.status)})
    if (reply.status >= 400 && reply.status !== 404) this.rejectedRequests++
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
    const headers: Record<string, string | number> = {
      'content-length': Buffer.byteLength(text),
      'content-type': typeof reply.body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json',
      ...reply.headers,
    }
    const unread = !req.complete && hasBody(req)
    if (unread || this.closing()) headers.connection = 'close'
    res.writeHead(reply.status, headers)
    if (unread) {
      res.write(text)
      this.lingering.begin(req, res)
    } else res.end(text)
  }
}
