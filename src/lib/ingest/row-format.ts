/**
 * The two insert formats serve writes rows in, behind one writer: JSONEachRow
 * (every back end) and RowBinary (a store that takes it, a ClickHouse server or
 * the embedded engine, when the table's column types are the ones RowBinary is
 * written for). Both take a field either as a
 * JavaScript string or as a slice of the request's UTF-8 bytes, so the common
 * body goes from socket bytes to insert bytes without building strings.
 *
 * Columns are written in store COLUMNS order: timestamp, created_at, app_id,
 * level, message, source, metadata, run_id, seq, batch_id.
 */
import type {InsertFormat, Store} from '../store/index.js'

import {COLUMNS, LEVELS} from '../store/index.js'
import {ByteWriter} from '../format/byte-writer.js'
import {BufferPool} from './buffer-pool.js'

export interface RowWriter {
  readonly format: InsertFormat
  /** Start a row: event time and ingest time, epoch ms. */
  begin(timestampMs: number, createdAtMs: number): void
  /** app_id, level, message, source, run_id, batch_id: a string column. */
  str(value: string): void
  /**
   * A string column from the content of a JSON string literal in `bytes` (between the
   * quotes, valid UTF-8). `escaped` says it holds simple backslash escapes (never \u).
   */
  jsonStr(bytes: Buffer, start: number, end: number, escaped: boolean): void
  /** The metadata column: JSON text (compact, valid UTF-8) from `bytes`. */
  jsonText(bytes: Buffer, start: number, end: number): void
  level(index: number): void
  /** The seq column, a non-negative safe integer. */
  seq(value: number): void
  /** The batch_id column, last of the row. */
  end(batchId: string): void
  /** Rows written so far are dropped. */
  reset(): void
  /** The bytes written, copied out (into a buffer of the writer's pool). */
  take(): Buffer
}

/** The byte a simple escape stands for, by the letter after the backslash. */
const ESCAPES = new Uint8Array(256)
for (const [letter, byte] of [['"', 0x22], ['/', 0x2f], ['\\', 0x5c], ['b', 0x08], ['f', 0x0c], ['n', 0x0a], ['r', 0x0d], ['t', 0x09]] as const) ESCAPES[letter.charCodeAt(0)] = byte

/**
 * bytes[start, end) into out at `at`. A byte loop beats Buffer#copy's native call for the
 * short fields of a log; a longer field goes through copy, which allocates nothing.
 */
function copyInto(bytes: Buffer, start: number, end: number, out: Buffer, at: number): void {
  if (end - start > 40) {
    bytes.copy(out, at, start, end)
    return
  }

  for (let i = start; i < end; i++) out[at++] = bytes[i]
}

/** A non-negative integer below 2^53 as 8 little-endian bytes (UInt64 / Int64). */
function writeUInt64LE(out: Buffer, at: number, value: number): void {
  const low = value % 0x1_0000_0000
  const high = Math.floor(value / 0x1_0000_0000)
  out[at] = low & 0xff
  out[at + 1] = (low >>> 8) & 0xff
  out[at + 2] = (low >>> 16) & 0xff
  out[at + 3] = low >>> 24
  out[at + 4] = high & 0xff
  out[at + 5] = (high >>> 8) & 0xff
  out[at + 6] = (high >>> 16) & 0xff
  out[at + 7] = high >>> 24
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/

/** The writer's byte buffer, reused across requests (one request is encoded at a time). */
class Output extends ByteWriter {
  constructor(private readonly pool: BufferPool) {
    super(1 << 20)
  }

  /** Append bytes made beforehand, growing as needed. */
  override bytes(data: Uint8Array): void {
    this.ensure(data.length)
    super.bytes(data)
  }

  /** A copy of what was written since `from`, to append again with bytes(). */
  since(from: number): Buffer {
    return Buffer.from(this.buf.subarray(from, this.pos))
  }

  /** The bytes written, copied into a buffer of the pool; the writer starts again. */
  copyOut(): Buffer {
    const out = this.pool.acquire(this.pos).subarray(0, this.pos)
    this.buf.copy(out, 0, 0, this.pos)
    this.pos = 0
    // A buffer grown for one huge request is not kept for every later one.
    if (this.buf.length > 16 << 20) this.buf = Buffer.allocUnsafe(1 << 20)
    return out
  }
}

/** The text before each column of a JSONEachRow row, in COLUMNS order. */
const JSON_NAMES = ['{"timestamp":', ',"created_at":', ',"app_id":', ',"level":', ',"message":', ',"source":', ',"metadata":', ',"run_id":', ',"seq":', ',"batch_id":'].map((text) =>
  Buffer.from(text, 'latin1'),
)
const JSON_LEVELS = LEVELS.map((level) => Buffer.from(`"${level}"`, 'latin1'))
const ROW_CLOSE = Buffer.from('}\n', 'latin1')

class JsonEachRowWriter implements RowWriter {
  readonly format = 'JSONEachRow' as const
  private readonly out: Output
  constructor(
    private readonly dateTime64: boolean,
    pool: BufferPool,
  ) {
    this.out = new Output(pool)
  }

  /** A non-negative integer below 2^53 in decimal digits. */
  private digits(value: number): void {
    this.out.ensure(16)
    this.out.uint(value)
  }

  private column = 0

  private next(): void {
    this.out.bytes(JSON_NAMES[this.column++])
  }

  begin(timestampMs: number, createdAtMs: number): void {
    this.column = 0
    this.next()
    this.digits(this.dateTime64 ? timestampMs : Math.floor(timestampMs / 1000))
    this.next()
    this.digits(this.dateTime64 ? createdAtMs : Math.floor(createdAtMs / 1000))
  }

  str(value: string): void {
    this.next()
    const text = NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : '"' + value + '"'
    const {out} = this
    out.ensure(text.length * 3)
    out.pos += out.buf.write(text, out.pos, 'utf8')
  }

  jsonStr(bytes: Buffer, start: number, end: number): void {
    this.next()
    const {out} = this
    out.ensure(end - start + 2)
    out.buf[out.pos++] = 0x22
    copyInto(bytes, start, end, out.buf, out.pos)
    out.pos += end - start
    out.buf[out.pos++] = 0x22
  }

  jsonText(bytes: Buffer, start: number, end: number): void {
    this.next()
    const {out} = this
    out.ensure(2)
    out.byte(0x22)
    out.jsonText(bytes, start, end)
    out.ensure(1)
    out.byte(0x22)
  }

  level(index: number): void {
    this.next()
    this.out.bytes(JSON_LEVELS[index])
  }

  seq(value: number): void {
    this.next()
    this.digits(value)
  }

  /** The batch id of the request being written, and the bytes that end a row with it. */
  private batchId = ''
  private rowEnd: Buffer = Buffer.from(',"batch_id":""}\n')

  end(batchId: string): void {
    // Every row of a request has the same batch id: its bytes are written once, then copied.
    if (batchId === this.batchId) {
      this.out.bytes(this.rowEnd)
      return
    }

    const from = this.out.pos
    this.str(batchId)
    this.out.bytes(ROW_CLOSE)
    this.batchId = batchId
    this.rowEnd = this.out.since(from)
  }

  reset(): void {
    this.out.pos = 0
  }

  take(): Buffer {
    return this.out.copyOut()
  }
}

class RowBinaryWriter implements RowWriter {
  readonly format = 'RowBinary' as const
  private readonly out: Output
  constructor(
    private readonly dateTime64: boolean,
    pool: BufferPool,
  ) {
    this.out = new Output(pool)
  }

  private varint(n: number): void {
    const {out} = this
    while (n >= 0x80) {
      out.buf[out.pos++] = (n & 0x7f) | 0x80
      n = Math.floor(n / 128)
    }

    out.buf[out.pos++] = n
  }

  private time(ms: number): void {
    const {out} = this
    if (this.dateTime64) {
      // Int64 little-endian; times are positive and below 2^53.
      writeUInt64LE(out.buf, out.pos, ms)
      out.pos += 8
    } else {
      const seconds = Math.floor(ms / 1000)
      const b = out.buf
      const at = out.pos
      b[at] = seconds & 0xff
      b[at + 1] = (seconds >>> 8) & 0xff
      b[at + 2] = (seconds >>> 16) & 0xff
      b[at + 3] = seconds >>> 24
      out.pos += 4
    }
  }

  begin(timestampMs: number, createdAtMs: number): void {
    this.out.ensure(16)
    this.time(timestampMs)
    this.time(createdAtMs)
  }

  str(value: string): void {
    const {out} = this
    if (value.length === 0) {
      out.ensure(1)
      out.buf[out.pos++] = 0
      return
    }

    const max = value.length * 3
    out.ensure(max + 5)
    if (max < 128) {
      // One length byte: write the text after it, then fill the length in.
      const at = out.pos++
      const n = out.buf.write(value, out.pos, 'utf8')
      out.buf[at] = n
      out.pos += n
      return
    }

    const n = Buffer.byteLength(value)
    this.varint(n)
    out.pos += out.buf.write(value, out.pos, 'utf8')
  }

  jsonStr(bytes: Buffer, start: number, end: number, escaped: boolean): void {
    const {out} = this
    out.ensure(end - start + 5)
    if (!escaped) {
      this.varint(end - start)
      copyInto(bytes, start, end, out.buf, out.pos)
      out.pos += end - start
      return
    }

    // Simple escapes only shorten the text: decode after a length that is fixed afterwards.
    let length = 0
    for (let i = start; i < end; i++, length++) if (bytes[i] === 0x5c) i++
    this.varint(length)
    const b = out.buf
    let p = out.pos
    for (let i = start; i < end; i++) {
      const c = bytes[i]
      b[p++] = c === 0x5c ? ESCAPES[bytes[++i]] : c
    }

    out.pos = p
  }

  jsonText(bytes: Buffer, start: number, end: number): void {
    const {out} = this
    out.ensure(end - start + 5)
    this.varint(end - start)
    copyInto(bytes, start, end, out.buf, out.pos)
    out.pos += end - start
  }

  level(index: number): void {
    this.out.ensure(1)
    // Enum8 values as in store/schema.ts: LEVELS in order, from 1.
    this.out.buf[this.out.pos++] = index + 1
  }

  seq(value: number): void {
    const {out} = this
    out.ensure(8)
    writeUInt64LE(out.buf, out.pos, value)
    out.pos += 8
  }

  /** The batch id of the request being written, and the bytes of its column (length first). */
  private batchId = ''
  private batchIdBytes: Buffer = Buffer.from([0])

  end(batchId: string): void {
    // Every row of a request has the same batch id: its bytes are written once, then copied.
    if (batchId === this.batchId) {
      this.out.bytes(this.batchIdBytes)
      return
    }

    const from = this.out.pos
    this.str(batchId)
    this.batchId = batchId
    this.batchIdBytes = this.out.since(from)
  }

  reset(): void {
    this.out.pos = 0
  }

  take(): Buffer {
    return this.out.copyOut()
  }
}

export function makeRowWriter(format: InsertFormat, caps: {dateTime64: boolean}, pool = new BufferPool(0)): RowWriter {
  return format === 'RowBinary' ? new RowBinaryWriter(caps.dateTime64, pool) : new JsonEachRowWriter(caps.dateTime64, pool)
}

/** Column types the RowBinary writer writes, by column, for each time precision. */
export function rowBinaryTypes(dateTime64: boolean): Record<string, RegExp> {
  const time = dateTime64 ? /^DateTime64\(3(?:, ?'UTC')?\)$/ : /^DateTime(?:\('UTC'\))?$/
  const str = /^(?:LowCardinality\()?String\)?$/
  const levels = LEVELS.map((level, i) => `'${level}' = ${i + 1}`).join(', ')
  return {
    app_id: str,
    batch_id: str,
    created_at: time,
    level: new RegExp(`^Enum8\\(${levels.replaceAll('(', '\\(').replaceAll(')', '\\)')}\\)$`),
    message: str,
    metadata: str,
    run_id: str,
    seq: /^UInt64$/,
    source: str,
    timestamp: time,
  }
}

/**
 * RowBinary when the store takes it and the table's columns have exactly the types it is
 * written for (a table of another shape, say one adopted from elsewhere, gets JSONEachRow).
 */
export async function insertFormatFor(store: Store): Promise<InsertFormat> {
  if (!store.info.insertFormats?.includes('RowBinary')) return 'JSONEachRow'
  const rows = await store.query<{name: string; type: string}>('SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}', {
    db: store.info.database,
    table: store.info.table,
  })
  const types = rowBinaryTypes(store.info.capabilities.dateTime64)
  const typeOf = new Map(rows.map((row) => [row.name, row.type]))
  return COLUMNS.every((column) => types[column].test(typeOf.get(column) ?? '')) ? 'RowBinary' : 'JSONEachRow'
}
