/**
 * What a body means, written apart from serve's encoders: the rows an accepted
 * body must store, derived with JSON.parse from the body as sent, plus decoders
 * of the two insert formats and the fast-check generators of bodies. Shared by
 * the property test of the encoders and the one through serve into real storage.
 */
import fc from 'fast-check'

import {LEVELS} from '../../../src/lib/store/index.js'

export interface DecodedRow {
  timestamp: number
  created_at: number
  app_id: string
  level: string
  message: string
  source: string
  /** Canonical JSON of the metadata ('' when none). */
  metadata: string
  run_id: string
  seq: number
  batch_id: string
}

const KNOWN = new Set(['app_id', 'level', 'message', 'source', 'metadata', 'timestamp'])

/** JSON text with keys sorted at every level, so two equal values give equal text. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return '[' + value.map((item) => canonical(item)).join(',') + ']'
  const keys = Object.keys(value).sort()
  return '{' + keys.map((key) => JSON.stringify(key) + ':' + canonical((value as Record<string, unknown>)[key])).join(',') + '}'
}

/** The entries of a body as JSON defines them, or undefined when it is not a body of entries. */
export function entriesOf(bytes: Uint8Array, format: 'json' | 'ndjson'): unknown[] | undefined {
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    return undefined
  }

  try {
    if (format === 'ndjson') {
      return text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line))
    }

    const parsed = JSON.parse(text)
    if (Array.isArray(parsed)) return parsed
    if (parsed !== null && typeof parsed === 'object') return Array.isArray(parsed.logs) ? parsed.logs : [parsed]
    return undefined
  } catch {
    return undefined
  }
}

/**
 * The row an entry must become when accepted, in the store's units (ms, or seconds without
 * DateTime64). Only what the entry itself says: no validation rules are repeated here.
 */
export function expectedRow(entry: Record<string, unknown>, now: number, batchId: string, dateTime64: boolean): DecodedRow {
  const unit = (ms: number) => (dateTime64 ? ms : Math.floor(ms / 1000))
  const ts = entry.timestamp
  let ms = now
  if (typeof ts === 'number') ms = Math.trunc(ts)
  else if (typeof ts === 'string') ms = Math.trunc(/^\d+$/.test(ts) ? Number(ts) : Date.parse(ts))
  const extras: Record<string, unknown> = {}
  for (const key of Object.keys(entry)) if (!KNOWN.has(key)) Object.defineProperty(extras, key, {enumerable: true, value: entry[key]})
  const given = entry.metadata as Record<string, unknown> | null | undefined
  const hasMeta = (given !== undefined && given !== null) || Object.keys(extras).length > 0
  const metadata = hasMeta ? {...extras, ...given} : undefined
  return {
    app_id: entry.app_id as string,
    batch_id: batchId,
    created_at: unit(now),
    level: entry.level === undefined ? 'info' : String(entry.level).toLowerCase(),
    message: entry.message as string,
    metadata: metadata ? canonical(metadata) : '',
    run_id: typeof metadata?.run_id === 'string' ? metadata.run_id : '',
    seq: typeof metadata?.seq === 'number' ? metadata.seq : 0,
    source: (entry.source ?? '') as string,
    timestamp: unit(ms),
  }
}

/** A stored metadata text as compared with the expectation. */
export const canonicalMetadata = (text: string) => (text === '' ? '' : canonical(JSON.parse(text)))

export function decodeJsonEachRow(bytes: Buffer): DecodedRow[] {
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const row = JSON.parse(line)
      return {...row, metadata: canonicalMetadata(row.metadata)}
    })
}

/** RowBinary in COLUMNS order, for DateTime64(3) (Int64 ms) or DateTime (UInt32 s). */
export function decodeRowBinary(bytes: Buffer, dateTime64: boolean): DecodedRow[] {
  const rows: DecodedRow[] = []
  let p = 0
  const time = () => {
    if (dateTime64) {
      const value = Number(bytes.readBigInt64LE(p))
      p += 8
      return value
    }

    const value = bytes.readUInt32LE(p)
    p += 4
    return value
  }

  const str = () => {
    let length = 0
    let shift = 0
    for (;;) {
      const byte = bytes[p++]
      length += (byte & 0x7f) * 2 ** shift
      shift += 7
      if (byte < 0x80) break
    }

    const slice = bytes.subarray(p, p + length)
    p += length
    // Invalid UTF-8 here would be stored as such: decode strictly so the test sees it.
    return new TextDecoder('utf-8', {fatal: true}).decode(slice)
  }

  while (p < bytes.length) {
    const timestamp = time()
    const createdAt = time()
    const appId = str()
    const level = LEVELS[bytes[p++] - 1]
    const message = str()
    const source = str()
    const metadata = canonicalMetadata(str())
    const runId = str()
    const seq = Number(bytes.readBigUInt64LE(p))
    p += 8
    rows.push({app_id: appId, batch_id: str(), created_at: createdAt, level, message, metadata, run_id: runId, seq, source, timestamp})
  }

  return rows
}

/** Rows in an order that does not depend on how they were stored. */
export const sortedRows = (rows: DecodedRow[]) => rows.map((row) => canonical(row)).sort()

// ---- generators ----

/** Printable ASCII (with quotes and backslashes), printable Unicode, or any code points at all. */
const text = fc.oneof(
  {arbitrary: fc.string({maxLength: 40, unit: 'grapheme-ascii'}), weight: 4},
  {arbitrary: fc.string({maxLength: 40, unit: 'grapheme'}), weight: 2},
  {arbitrary: fc.string({maxLength: 40, unit: 'binary'}).filter((s) => s.isWellFormed()), weight: 1},
)
const appId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,20}$/)
const metaValue = fc.oneof({arbitrary: fc.oneof(fc.integer(), fc.string({maxLength: 8}), fc.boolean()), weight: 3}, {arbitrary: fc.jsonValue({maxDepth: 2}), weight: 1})
/** Keys that name parts of a JavaScript object's prototype: stored like any other key. */
const prototypeKey = fc.constantFrom('__proto__', 'constructor', 'prototype')
const extraKey = fc.oneof({arbitrary: fc.string({maxLength: 8, minLength: 1}).filter((key) => !KNOWN.has(key)), weight: 3}, {arbitrary: prototypeKey, weight: 1})
const metaKey = fc.oneof({arbitrary: fc.string({maxLength: 6}), weight: 3}, {arbitrary: prototypeKey, weight: 1})
/** Times inside the accepted window: 2000-01-01 .. the test's now. */
const MIN = Date.UTC(2000, 0, 1)

export function validEntry(now: number): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      app_id: appId,
      level: fc.constantFrom(...LEVELS, 'INFO', 'Warn'),
      message: text,
      metadata: fc
        .tuple(
          fc.record(
            {
              nested: fc.dictionary(metaKey, metaValue, {maxKeys: 2}),
              run_id: fc.string({maxLength: 12, unit: 'binary'}).filter((s) => s.isWellFormed()),
              seq: fc.nat(),
              x: metaValue,
            },
            {requiredKeys: []},
          ),
          fc.oneof({arbitrary: fc.constant({}), weight: 3}, {arbitrary: fc.dictionary(prototypeKey, metaValue, {maxKeys: 2}), weight: 1}),
        )
        .map(([fields, prototypeKeys]) => ({...prototypeKeys, ...fields})),
      source: text,
      timestamp: fc.oneof(
        fc.integer({max: now, min: MIN}),
        fc.integer({max: now, min: MIN}).map((ms) => new Date(ms).toISOString()),
        fc.integer({max: now, min: MIN}).map((ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')),
        fc.integer({max: now, min: MIN}).map((ms) => new Date(ms).toISOString().replace('Z', '+00:00')),
      ),
    },
    {requiredKeys: ['app_id', 'message']},
  ).chain((entry) =>
    fc.oneof({arbitrary: fc.constant({}), weight: 4}, {arbitrary: fc.dictionary(extraKey, metaValue, {maxKeys: 2}), weight: 1}).map((extras) => ({...entry, ...extras})),
  )
}

export type Shape = 'array' | 'wrapped' | 'single' | 'ndjson'

/** A valid body: its bytes, its format, and how it was built. */
export function validBody(now: number): fc.Arbitrary<{bytes: Buffer; format: 'json' | 'ndjson'; shape: Shape}> {
  return fc
    .record({
      entries: fc.array(validEntry(now), {maxLength: 4, minLength: 1}),
      indent: fc.constantFrom(undefined, undefined, 0, 1),
      shape: fc.constantFrom<Shape>('array', 'wrapped', 'single', 'ndjson'),
    })
    .map(({entries, indent, shape}) => {
      const json = (value: unknown) => JSON.stringify(value, undefined, shape === 'ndjson' ? undefined : indent)
      const body =
        shape === 'ndjson'
          ? entries.map((entry) => json(entry)).join('\n') + '\n'
          : shape === 'wrapped'
            ? json({logs: entries})
            : shape === 'single'
              ? json(entries[0])
              : json(entries)
      return {bytes: Buffer.from(body), format: shape === 'ndjson' ? ('ndjson' as const) : ('json' as const), shape}
    })
}

const GRAMMAR = [...Buffer.from('"{}[],:')]
const STRUCTURAL = [...GRAMMAR, ...Buffer.from('\\ \n0-.eu')]

/** A valid body changed: bytes replaced, removed, inserted or repeated; or cut short. */
export function brokenBody(now: number): fc.Arbitrary<{bytes: Buffer; format: 'json' | 'ndjson'}> {
  const mutation = fc.record({
    // Unbiased: a biased position would land on the first or last byte most of the time.
    at: fc.noBias(fc.integer({max: 2 ** 30, min: 0})),
    byte: fc.oneof(fc.integer({max: 255, min: 0}), fc.constantFrom(...STRUCTURAL)),
    kind: fc.constantFrom('replace', 'delete', 'insert', 'repeat', 'truncate', 'structural', 'structural'),
    length: fc.integer({max: 8, min: 1}),
  })
  return fc.record({body: validBody(now), mutations: fc.array(mutation, {maxLength: 2, minLength: 1})}).map(({body, mutations}) => {
    let bytes = body.bytes
    for (const m of mutations) {
      const i = m.at % (bytes.length + 1)
      if (m.kind === 'structural') {
        // One of the bytes the grammar hangs on, swapped for another of them.
        const at = [...bytes.keys()].filter((k) => GRAMMAR.includes(bytes[k]))
        if (at.length === 0) continue
        const k = at[m.at % at.length]
        bytes = Buffer.concat([bytes.subarray(0, k), Buffer.from([STRUCTURAL[m.byte % STRUCTURAL.length]]), bytes.subarray(k + 1)])
      } else if (m.kind === 'replace') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([m.byte]), bytes.subarray(i + 1)])
      else if (m.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + m.length)])
      else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.alloc(m.length, m.byte), bytes.subarray(i)])
      else if (m.kind === 'repeat') bytes = Buffer.concat([bytes.subarray(0, i + m.length), bytes.subarray(i)])
      else bytes = bytes.subarray(0, i)
    }

    return {bytes, format: body.format}
  })
}

export const randomBody = fc.record({bytes: fc.uint8Array({maxLength: 200}).map((a) => Buffer.from(a)), format: fc.constantFrom<'json' | 'ndjson'>('json', 'ndjson')})
