/**
 * The general path of an ingest request body: JSON.parse it, validate every
 * entry and write the valid ones to a RowWriter. It takes every body the fast
 * path (body-scanner.ts) leaves, and gives the error details. A request is all
 * or nothing: one bad entry rejects the whole body, and the details name each
 * bad entry.
 */
import type {Capabilities} from '../store/index.js'
import type {RowWriter} from './row-format.js'

import {LEVELS} from '../store/index.js'
import {parseIsoUtc} from './iso-time.js'

export type BodyFormat = 'json' | 'ndjson'

export interface ValidationDetail {
  index: number
  field: string
  reason: string
}

export interface ValidationLimits {
  /** Longest message, in UTF-8 bytes. */
  maxMessageBytes: number
  /** Longest app_id, in characters. */
  maxAppIdLength: number
  maxSourceLength: number
  /** Largest metadata object, as JSON text in UTF-8 bytes. */
  maxMetadataBytes: number
}

export const DEFAULT_LIMITS: ValidationLimits = {
  maxAppIdLength: 128,
  maxMessageBytes: 64 * 1024,
  maxMetadataBytes: 64 * 1024,
  maxSourceLength: 256,
}

export interface EncodeContext {
  limits: ValidationLimits
  caps: Pick<Capabilities, 'dateTime64'>
  /** Ingest time of this request, epoch ms. */
  now: number
  /** Goes to the batch_id column (the request's Idempotency-Key, or ''). */
  batchId: string
}

export type EncodeResult =
  | {ok: true; rows: number; encoded: Buffer}
  | {ok: false; status: 400; error: string; details: ValidationDetail[]}

const MAX_DETAILS = 20
/** Deepest nesting of objects and arrays in metadata, the metadata object itself being 1. */
export const MAX_DEPTH = 100
// A lone surrogate (\ud800) is valid JSON but not text: ClickHouse refuses the whole INSERT carrying it.
const NOT_WELL_FORMED = 'not well-formed Unicode (a lone surrogate escape such as \\ud800)'
const APP_ID = /^[A-Za-z0-9][A-Za-z0-9_.:\/-]*$/
const LEVEL_SET = new Set<string>(LEVELS)
const KNOWN = new Set(['app_id', 'level', 'message', 'source', 'metadata', 'timestamp'])
// Event times outside [2000-01-01, now + 1 day] are almost always a unit mistake (seconds for ms).
const MIN_TIME = Date.UTC(2000, 0, 1)
const DAY = 86_400_000

function utf8Length(value: string, atLeast: number): number {
  // A UTF-8 byte count costs a pass over the string; skip it when the string cannot be that long.
  return value.length * 3 <= atLeast ? value.length : Buffer.byteLength(value)
}

/** Parse the body into entries; a single object counts as one entry. */
export function parseBody(text: string, format: BodyFormat): {entries: unknown[]} | {error: string; details: ValidationDetail[]} {
  if (format === 'ndjson') {
    const entries: unknown[] = []
    let index = 0
    let start = 0
    while (start <= text.length) {
      let end = text.indexOf('\n', start)
      if (end === -1) end = text.length
      const line = text.slice(start, end).trim()
      start = end + 1
      if (line === '') continue
      try {
        entries.push(JSON.parse(line))
      } catch (error) {
        return {details: [{field: '', index, reason: `line is not valid JSON: ${(error as Error).message}`}], error: 'invalid NDJSON body'}
      }

      index++
    }

    return {entries}
  }

  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return {details: [{field: '', index: -1, reason: (error as Error).message}], error: 'body is not valid JSON'}
  }

  if (Array.isArray(parsed)) return {entries: parsed}
  if (parsed !== null && typeof parsed === 'object') {
    const logs = (parsed as {logs?: unknown}).logs
    if (Array.isArray(logs)) return {entries: logs}
    return {entries: [parsed]}
  }

  return {details: [{field: '', index: -1, reason: 'expected a log object, an array of them, or {"logs": [...]}'}], error: 'invalid body'}
}

const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i

/**
 * Other ISO-8601 times: only with an explicit zone (a time without one would depend on the
 * server's time zone) and only real calendar dates (Date.parse rolls 30 February into March).
 */
function parseIsoWithZone(value: string): number {
  const match = ISO_WITH_ZONE.exec(value)
  if (!match) return Number.NaN
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  if (month < 1 || month > 12 || new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return Number.NaN
  return Date.parse(value)
}

/** Whether objects and arrays in `value` nest deeper than `max` (counting `value` as 1), without recursion. */
function nestsDeeper(value: object, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!
    if (item === null || typeof item !== 'object') continue
    if (depth > max) return true
    for (const child of Array.isArray(item) ? item : Object.values(item)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
  }

  return false
}

/** Epoch ms of an event time as sent (ISO-8601 with a zone, or epoch ms), or why it is refused. */
export function parseTime(value: unknown, now: number): number | string {
  let ms: number
  if (typeof value === 'number') {
    ms = value
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value)
    ms = bytes.length === value.length ? parseIsoUtc(bytes, 0, bytes.length) : Number.NaN
    if (Number.isNaN(ms)) ms = /^\d+$/.test(value) ? Number(value) : parseIsoWithZone(value)
    if (Number.isNaN(ms)) return 'not an ISO-8601 time with a zone (Z or ±hh:mm) or epoch milliseconds'
  } else {
    return 'must be an ISO-8601 string or epoch milliseconds'
  }

  return checkTime(ms, now)
}

/** Epoch ms of an event time in the accepted window, or why it is refused. */
export function checkTime(ms: number, now: number): number | string {
  if (!Number.isFinite(ms)) return 'not a finite time'
  if (ms < MIN_TIME || ms > now + DAY) return 'outside 2000-01-01 .. now + 1 day (epoch seconds instead of milliseconds?)'
  return Math.trunc(ms)
}

/** Validate entries and write them to `w` in the store's column order. */
export function encodeEntries(entries: unknown[], ctx: EncodeContext, w: RowWriter): EncodeResult {
  const details: ValidationDetail[] = []
  const {limits} = ctx
  const bad = (index: number, field: string, reason: string) => {
    if (details.length < MAX_DETAILS) details.push({field, index, reason})
  }

  if (entries.length === 0) {
    return {details: [{field: '', index: -1, reason: 'no log entries in the body'}], error: 'empty batch', ok: false, status: 400}
  }

  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Record<string, unknown>
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      bad(i, '', 'entry must be a JSON object')
      continue
    }

    const appId = entry.app_id
    if (typeof appId !== 'string' || appId === '') bad(i, 'app_id', 'required string')
    else if (appId.length > limits.maxAppIdLength || !APP_ID.test(appId)) {
      bad(i, 'app_id', `must be a short identifier (letters, digits, . _ - : /; at most ${limits.maxAppIdLength})`)
    }

    let level = entry.level
    if (level === undefined) level = 'info'
    else if (typeof level !== 'string' || !LEVEL_SET.has(level)) {
      const lower = typeof level === 'string' ? level.toLowerCase() : ''
      if (LEVEL_SET.has(lower)) level = lower
      else bad(i, 'level', `must be one of ${LEVELS.join(', ')}`)
    }

    const message = entry.message
    if (typeof message !== 'string') bad(i, 'message', 'required string')
    else if (utf8Length(message, limits.maxMessageBytes) > limits.maxMessageBytes) {
      bad(i, 'message', `longer than ${limits.maxMessageBytes} bytes`)
    } else if (!message.isWellFormed()) bad(i, 'message', NOT_WELL_FORMED)

    const source = entry.source ?? ''
    if (typeof source !== 'string') bad(i, 'source', 'must be a string')
    else if (source.length > limits.maxSourceLength) bad(i, 'source', `longer than ${limits.maxSourceLength} characters`)
    else if (!source.isWellFormed()) bad(i, 'source', NOT_WELL_FORMED)

    let metadata = entry.metadata as Record<string, unknown> | undefined | null
    if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
      bad(i, 'metadata', 'must be an object')
      metadata = undefined
    }

    let timestamp = ctx.now
    if (entry.timestamp !== undefined && entry.timestamp !== null) {
      const parsed = parseTime(entry.timestamp, ctx.now)
      if (typeof parsed === 'string') bad(i, 'timestamp', parsed)
      else timestamp = parsed
    }

    // Fields beyond the schema are kept in metadata rather than silently dropped.
    let extra: Record<string, unknown> | undefined
    for (const key in entry) {
      // A prototype-less object, so a field named __proto__ is kept like any other.
      if (!KNOWN.has(key)) (extra ??= Object.create(null) as Record<string, unknown>)[key] = entry[key]
    }

    if (extra) metadata = {...extra, ...metadata}
    let metadataText = ''
    let runId = ''
    let seq = 0
    if (metadata && nestsDeeper(metadata, MAX_DEPTH)) {
      bad(i, 'metadata', `nested deeper than ${MAX_DEPTH} levels`)
    } else if (metadata) {
      metadataText = JSON.stringify(metadata)
      if (utf8Length(metadataText, limits.maxMetadataBytes) > limits.maxMetadataBytes) {
        bad(i, 'metadata', `larger than ${limits.maxMetadataBytes} bytes as JSON`)
      }

      const run = metadata.run_id
      if (typeof run === 'string') {
        if (run.isWellFormed()) runId = run
        else bad(i, 'metadata.run_id', NOT_WELL_FORMED)
      } else if (run !== undefined) bad(i, 'metadata.run_id', 'must be a string')
      const s = metadata.seq
      if (typeof s === 'number' && Number.isSafeInteger(s) && s >= 0) seq = s
      else if (s !== undefined) bad(i, 'metadata.seq', 'must be a non-negative integer')
    }

    // Once anything is invalid the request fails: keep collecting details, stop encoding.
    if (details.length > 0) continue
    w.begin(timestamp, ctx.now)
    w.str(appId as string)
    w.level(LEVELS.indexOf(level as (typeof LEVELS)[number]))
    w.str(message as string)
    w.str(source as string)
    w.str(metadataText)
    w.str(runId)
    w.seq(seq)
    w.end(ctx.batchId)
  }

  if (details.length > 0) {
    w.reset()
    return {details, error: `${details.length >= MAX_DETAILS ? 'at least ' : ''}${details.length} invalid field(s); nothing from this request was stored`, ok: false, status: 400}
  }

  return {encoded: w.take(), ok: true, rows: entries.length}
}
