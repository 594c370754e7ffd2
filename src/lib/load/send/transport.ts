/**
 * The HTTP side of the sender, behind a small interface so tests can swap it:
 * an undici Pool with keep-alive to the target's origin.
 */
import {Pool} from 'undici'

import type {TransportResponse} from '../protocols/ack.js'

export type {TransportResponse} from '../protocols/ack.js'

export interface TransportRequest {
  body: Uint8Array
  headers: Record<string, string>
}

export interface Transport {
  send(request: TransportRequest): Promise<TransportResponse>
  close(): Promise<void>
}

export interface UndiciTransportOptions {
  /** Full URL requests are POSTed to. */
  url: URL
  /** Connections kept open to the target. */
  connections: number
  /** Time allowed for the response headers and for the body, each (ms). */
  timeoutMs: number
  maxBodyBytes?: number
}

export function undiciTransport(options: UndiciTransportOptions): Transport {
  const pool = new Pool(options.url.origin, {
    connections: options.connections,
    keepAliveTimeout: 4000,
    pipelining: 1,
  })
  const path = options.url.pathname + options.url.search
  const maxBody = options.maxBodyBytes ?? 16 * 1024
  return {
    async close() {
      await pool.close().catch(() => pool.destroy())
    },
    async send(request) {
      const response = await pool.request({
        body: request.body,
        bodyTimeout: options.timeoutMs,
        headers: request.headers,
        headersTimeout: options.timeoutMs,
        method: 'POST',
        path,
      })
      const received = Buffer.from(await response.body.arrayBuffer())
      const bytes = received.length > maxBody ? received.subarray(0, maxBody) : received
      return {body: bytes.toString('utf8'), bytes, headers: response.headers as TransportResponse['headers'], statusCode: response.statusCode}
    },
  }
}
