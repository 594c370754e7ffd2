/**
 * How an answer acknowledges a batch: per record, never per request. Every
 * protocol judges its own answers into an Ack (how many records were taken,
 * which failed and why, which are worth sending again alone); a status outside
 * 2xx fails the whole request and goes through the sender's retry classes.
 *
 * Error kinds follow Rally's split: backpressure (429), transport (502, 503,
 * 504 and connection trouble: retried), rejected (other 4xx and records a 2xx
 * refused: never retried), other (500 and the rest).
 */
import type {ByteWriter} from '../../format/byte-writer.js'

/** An answer as the sender received it (send/transport.ts), as the protocols judge it. */
export interface TransportResponse {
  statusCode: number
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>
  /** The response body as text, cut at `maxBodyBytes` characters. */
  body: string
  /** The response body as bytes (for binary answers such as OTLP protobuf), cut the same way. */
  bytes?: Buffer
}

export interface FailedRecords {
  /** Error class: http_<status> of the item, or "partial" for records a 2xx refused without a status. */
  cls: string
  count: number
  /** The server's own words, for the report. */
  sample?: string
}

export interface Ack {
  /** Records acknowledged by this answer. */
  acked: number
  /** Records that failed for good. */
  failed: FailedRecords[]
  /** Records worth sending again alone (positions in the body's order), e.g. _bulk items answered 429. */
  retry?: {positions: number[]; cls: string; sample?: string; retryAfterMs?: number}
}

/** Writes the body of a batch in one protocol and judges the answers to it. */
export interface BatchEncoder {
  /** The content-type header of every request. */
  readonly contentType: string
  /** Longest answer worth reading (a _bulk answer lists every item). */
  readonly maxResponseBytes: number
  /**
   * The body for the logs `seqOf(0) … seqOf(count - 1)`, written into `out`
   * from its start (the result shares its memory). The same seed gives the same bytes.
   */
  encode(count: number, seqOf: (i: number) => number, timestampMs: number, out: ByteWriter): Buffer
  /** The acknowledgement of a 2xx answer to a body of `count` records; a status outside 2xx throws HttpStatusError. */
  judge(response: TransportResponse, count: number, nowEpochMs: number): Ack
}

export class HttpStatusError extends Error {
  constructor(
    readonly statusCode: number,
    readonly retryAfterMs: number | undefined,
    readonly sample: string,
  ) {
    super(sample)
  }
}

/** Retry-After in ms from seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, nowEpochMs: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - nowEpochMs)
}

/** The start of a text on one line, for samples. */
export function snippet(text: string, length = 200): string {
  return text.replaceAll(/\s+/g, ' ').trim().slice(0, length)
}

/** Throw the whole request's failure for a status outside 2xx. */
export function assertSuccess(response: TransportResponse, nowEpochMs: number): void {
  if (response.statusCode >= 200 && response.statusCode < 300) return
  const text = snippet(response.body)
  throw new HttpStatusError(response.statusCode, parseRetryAfter(response.headers['retry-after'], nowEpochMs), `HTTP ${response.statusCode}${text ? `: ${text}` : ''}`)
}

/** Everything acknowledged. */
export function ackAll(count: number): Ack {
  return {acked: count, failed: []}
}

export type ErrorKind = 'backpressure' | 'transport' | 'rejected' | 'other' | 'interrupted'

/** Rally's split of an error class. */
export function errorKind(cls: string): ErrorKind {
  if (cls === 'http_429') return 'backpressure'
  if (/^http_50[234]$/.test(cls) || ['timeout', 'reset', 'refused', 'dns'].includes(cls)) return 'transport'
  if (/^http_4\d\d$/.test(cls) || cls === 'partial') return 'rejected'
  if (cls === 'interrupted' || cls === 'aborted') return 'interrupted'
  return 'other'
}

/** Counts by class summed into counts by kind. */
export function countsByKind(byClass: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [cls, n] of Object.entries(byClass)) out[errorKind(cls)] = (out[errorKind(cls)] ?? 0) + n
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)))
}
