/**
 * OTLP/HTTP logs (opentelemetry-proto, logs/v1 and collector/logs/v1), in
 * protobuf (the default) or in the OTLP JSON mapping.
 *
 * - One ResourceLogs per service (resource attribute service.name = the app),
 *   one ScopeLogs (scope "logbench") in each.
 * - A LogRecord per log: timeUnixNano is the event time, severityNumber and
 *   severityText come from the level, the body is a string (the message, or
 *   the entry of the body template as JSON text).
 * - Attributes logbench.run_id and logbench.seq, then for the default shape
 *   source, user_id, duration_ms, region and env; its request id is the span
 *   id, and the trace id is hashed from the seed and seq.
 * - JSON mapping: trace and span ids in hex, enums as integers, 64-bit
 *   integers (times, intValue) as strings.
 *
 * The protobuf is written with protobufjs's Writer straight into the batch
 * buffer; what is the same for every record (the run id attribute, severity
 * fields, each source, region and env attribute, the resource of each
 * service) is encoded once, and each record's length is computed before it is
 * written, so no record is shifted to make room for its length.
 *
 * An answer acknowledges the records it does not list in
 * partialSuccess.rejectedLogRecords; those count as failed (class "partial")
 * with its errorMessage as the sample.
 */
import protobuf from 'protobufjs/minimal.js'

import type {Ack, BatchEncoder} from './ack.js'

import {ByteWriter} from '../../format/byte-writer.js'
import {type DrawnMeta, ENVS, type LogSynth, mix32, REGIONS} from '../generate/synth.js'
import {assertSuccess, snippet} from './ack.js'
import {Grouper} from './group.js'

export type OtlpEncoding = 'protobuf' | 'json'
export const OTLP_ENCODINGS: readonly OtlpEncoding[] = ['protobuf', 'json']
export const OTLP_PATH = '/v1/logs'
export const SCOPE_NAME = 'logbench'

/** SeverityNumber of each level name (logs/v1 SeverityNumber: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21). */
export function severityNumber(level: string): number {
  const numbers: Record<string, number> = {debug: 5, error: 17, fatal: 21, info: 9, trace: 1, warn: 13, warning: 13}
  return numbers[level.toLowerCase()] ?? 0
}

const {Reader, Writer} = protobuf
type PbWriter = protobuf.Writer

/** Field tags: (number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited). */
const TAG = {
  anyInt: (3 << 3) | 0,
  anyString: (1 << 3) | 2,
  kvKey: (1 << 3) | 2,
  kvValue: (2 << 3) | 2,
  recordAttribute: (6 << 3) | 2,
  recordBody: (5 << 3) | 2,
  recordSeverityNumber: (2 << 3) | 0,
  recordSeverityText: (3 << 3) | 2,
  recordSpanId: (10 << 3) | 2,
  recordTime: (1 << 3) | 1,
  recordTraceId: (9 << 3) | 2,
  requestResourceLogs: (1 << 3) | 2,
  resourceAttribute: (1 << 3) | 2,
  resourceLogsResource: (1 << 3) | 2,
  resourceLogsScopeLogs: (2 << 3) | 2,
  scopeLogsRecord: (2 << 3) | 2,
  scopeLogsScope: (1 << 3) | 2,
  scopeName: (1 << 3) | 2,
} as const

const encoded = (build: (w: PbWriter) => void): Uint8Array => {
  const w = Writer.create()
  build(w)
  return w.finish()
}

/** A whole `attributes` field holding KeyValue{key, string value}. */
const stringAttribute = (tag: number, key: string, value: string) =>
  encoded((w) => {
    w.uint32(tag).fork().uint32(TAG.kvKey).string(key).uint32(TAG.kvValue).fork().uint32(TAG.anyString).string(value).ldelim().ldelim()
  })

/** A non-negative integer as a varint (int64 on the wire; uint32 is the same varint below 2^32). */
function writeVarint(w: PbWriter, value: number): void {
  if (value < 4_294_967_296) w.uint32(value)
  else w.int64(value)
}

const concat = (...parts: Uint8Array[]) => Buffer.concat(parts)

/**
 * What an int attribute holds before its varint, for each varint size (1 to 10 bytes): the
 * attributes tag and KeyValue length, the key, the AnyValue tag and length, the int_value tag.
 */
function intHeads(key: string, before: Uint8Array = new Uint8Array()): Uint8Array[] {
  const keyField = encoded((w) => w.uint32(TAG.kvKey).string(key))
  return Array.from({length: 11}, (_, size) =>
    concat(
      before,
      encoded((w) => w.uint32(TAG.recordAttribute).uint32(keyField.length + 2 + 1 + size).raw(keyField).uint32(TAG.kvValue).uint32(1 + size).uint32(TAG.anyInt)),
    ),
  )
}

/** Bytes of the varint of a non-negative integer, so a small message's length can go before it (no fork and shift). */
function varintSize(value: number): number {
  let size = 1
  for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) size++
  return size
}

/** Nanoseconds since the epoch of a time in ms, exactly, as decimal text. */
const nanosText = (ms: number) => `${Math.trunc(ms)}000000`

class OtlpProtobuf implements BatchEncoder {
  readonly contentType = 'application/x-protobuf'
  readonly maxResponseBytes = 64 * 1024
  private readonly w = Writer.create()
  private readonly scratch = new ByteWriter(8192)
  private readonly grouper = new Grouper()
  private readonly meta: DrawnMeta = {durationMs: 0, env: 0, region: 0, requestId: new Uint8Array(16), userId: 0}
  /** trace_id (16 bytes), then the span_id field's tag and length, then span_id (8 bytes). */
  private readonly ids = new Uint8Array(26)
  private readonly resources: Uint8Array[]
  private readonly scope: Uint8Array
  private readonly severities: Uint8Array[]
  /**
   * Everything of an int attribute before its varint (field tag and KeyValue length, key, value
   * tag and length, int tag), by the varint's size; the seq's has the run id attribute in front,
   * the user id's the source attribute (by source, then size).
   */
  private readonly seqHeads: Uint8Array[]
  private readonly sourceUserHeads: Uint8Array[][]
  private readonly durationHeads: Uint8Array[]
  /** The region and env attributes and the trace_id field's tag and length, by region × ENVS.length + env. */
  private readonly placeHeads: Uint8Array[]
  private timeMs = Number.NaN
  /** The time and severity fields and the body's tag, by level (the time is the batch's). */
  private recordHeads: Uint8Array[] = []

  constructor(private readonly synth: LogSynth) {
    this.resources = synth.appNames.map((app) =>
      encoded((w) => {
        w.uint32(TAG.resourceLogsResource).fork()
        w.uint32(TAG.resourceAttribute).fork().uint32(TAG.kvKey).string('service.name').uint32(TAG.kvValue).fork().uint32(TAG.anyString).string(app).ldelim().ldelim()
        w.ldelim()
      }),
    )
    this.scope = encoded((w) => {
      w.uint32(TAG.scopeLogsScope).fork().uint32(TAG.scopeName).string(SCOPE_NAME).ldelim()
    })
    this.severities = synth.levelNames.map((level) =>
      encoded((w) => {
        w.uint32(TAG.recordSeverityNumber).uint32(severityNumber(level)).uint32(TAG.recordSeverityText).string(level)
      }),
    )
    this.seqHeads = intHeads('logbench.seq', stringAttribute(TAG.recordAttribute, 'logbench.run_id', synth.runId))
    this.sourceUserHeads = synth.sourceNames.map((source) => intHeads('user_id', stringAttribute(TAG.recordAttribute, 'source', source)))
    this.durationHeads = intHeads('duration_ms')
    const traceTag = encoded((w) => w.uint32(TAG.recordTraceId).uint32(16))
    this.placeHeads = REGIONS.flatMap((region) =>
      ENVS.map((env) => concat(stringAttribute(TAG.recordAttribute, 'region', region), stringAttribute(TAG.recordAttribute, 'env', env), traceTag)),
    )
    this.ids.set(encoded((w) => w.uint32(TAG.recordSpanId).uint32(8)), 16)
  }

  encode(count: number, seqOf: (i: number) => number, timestampMs: number, out: ByteWriter): Buffer {
    const {grouper, synth, w} = this
    if (timestampMs !== this.timeMs) {
      this.timeMs = timestampMs
      const time = encoded((tw) => tw.uint32(TAG.recordTime).fixed64(nanosText(timestampMs)))
      this.recordHeads = this.severities.map((severity) => concat(time, severity, encoded((tw) => tw.uint32(TAG.recordBody))))
    }

    // The writer works in the batch's own buffer: no copy of the body.
    w.buf = out.buf
    w.pos = 0
    w.view = null
    w.states = null
    grouper.group(count, synth.appNames.length, (i) => synth.appOf(seqOf(i)))
    const {order, starts} = grouper
    for (let app = 0; app < synth.appNames.length; app++) {
      if (starts[app] === starts[app + 1]) continue
      w.uint32(TAG.requestResourceLogs).fork().raw(this.resources[app])
      w.uint32(TAG.resourceLogsScopeLogs).fork().raw(this.scope)
      for (let k = starts[app]; k < starts[app + 1]; k++) this.record(seqOf(order[k]), timestampMs)
      w.ldelim().ldelim()
    }

    out.buf = w.buf as Buffer
    out.pos = w.pos
    w.buf = new Uint8Array(0)
    return out.take()
  }

  /**
   * One LogRecord. Everything is drawn before anything is written, so the record's length is known
   * and goes before it (no fork and shift of the record).
   */
  private record(seq: number, timestampMs: number): void {
    const {ids, meta, scratch, synth, w} = this
    const drawn = synth.begin(seq)
    scratch.pos = 0
    scratch.ensure(synth.entryBytes)
    if (synth.template) synth.writeEntry(scratch, seq, timestampMs)
    else synth.writeMessage(scratch, true)
    const bodyLength = scratch.pos
    const anyValue = 1 + varintSize(bodyLength) + bodyLength
    const head = this.recordHeads[drawn.level]
    const seqSize = varintSize(seq)
    const seqHead = this.seqHeads[seqSize]
    let length = head.length + varintSize(anyValue) + anyValue + seqHead.length + seqSize
    if (synth.template) {
      w.uint32(TAG.scopeLogsRecord).uint32(length).raw(head).uint32(anyValue).uint32(TAG.anyString).uint32(bodyLength).raw(scratch.buf.subarray(0, bodyLength))
      w.raw(seqHead)
      writeVarint(w, seq)
      return
    }

    synth.drawMeta(meta)
    traceId(synth.seed, seq, ids)
    packNibbles(meta.requestId, ids, 18)
    const userSize = varintSize(meta.userId)
    const userHead = this.sourceUserHeads[drawn.source][userSize]
    const durationSize = varintSize(meta.durationMs)
    const durationHead = this.durationHeads[durationSize]
    const place = this.placeHeads[meta.region * ENVS.length + meta.env]
    length += userHead.length + userSize + durationHead.length + durationSize + place.length + ids.length
    w.uint32(TAG.scopeLogsRecord).uint32(length).raw(head).uint32(anyValue).uint32(TAG.anyString).uint32(bodyLength).raw(scratch.buf.subarray(0, bodyLength))
    w.raw(seqHead)
    writeVarint(w, seq)
    w.raw(userHead).uint32(meta.userId)
    w.raw(durationHead).uint32(meta.durationMs)
    w.raw(place).raw(ids)
  }

  judge(response: Parameters<BatchEncoder['judge']>[0], count: number, nowEpochMs: number): Ack {
    assertSuccess(response, nowEpochMs)
    return partialAck(response, count)
  }
}

/**
 * The trace id of log `seq`: 16 bytes hashed from the seed and seq (no draw of the generator, so
 * it adds no randomness to the rest of the log; a pure function, so the same in both encodings).
 */
function traceId(seed: number, seq: number, into: Uint8Array): void {
  const lo = seq >>> 0
  const hi = Math.floor(seq / 4_294_967_296) >>> 0
  let word = mix32(seed ^ mix32(lo ^ mix32(hi ^ 0x7f_4a_7c_15)))
  for (let i = 0; i < 16; i += 4) {
    word = mix32(word + 0x9e_37_79_b9)
    into[i] = word >>> 24
    into[i + 1] = (word >>> 16) & 255
    into[i + 2] = (word >>> 8) & 255
    into[i + 3] = word & 255
  }
}

/** Hex digits (nibble values) packed two to a byte, the first digit high, into `into` from `at`. */
function packNibbles(nibbles: Uint8Array, into: Uint8Array, at = 0): void {
  for (let i = 0; 2 * i < nibbles.length; i++) into[at + i] = (nibbles[2 * i] << 4) | nibbles[2 * i + 1]
}

const HEX = Uint8Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0))
const enc = (text: string) => Buffer.from(text)

class OtlpJson implements BatchEncoder {
  readonly contentType = 'application/json'
  readonly maxResponseBytes = 64 * 1024
  private readonly scratch = new ByteWriter(8192)
  private readonly grouper = new Grouper()
  private readonly meta: DrawnMeta = {durationMs: 0, env: 0, region: 0, requestId: new Uint8Array(16), userId: 0}
  private readonly trace = new Uint8Array(16)
  private readonly resourceHeads: Uint8Array[]
  private readonly severities: Uint8Array[]
  private readonly sources: Uint8Array[]
  private readonly regions: Uint8Array[]
  private readonly envs: Uint8Array[]
  private readonly runIdAttribute: Uint8Array
  private timeMs = Number.NaN
  private timeHead: Uint8Array = new Uint8Array()

  constructor(private readonly synth: LogSynth) {
    const string = (key: string, value: string) => `{"key":${JSON.stringify(key)},"value":{"stringValue":${JSON.stringify(value)}}}`
    this.resourceHeads = synth.appNames.map((app) =>
      enc(`{"resource":{"attributes":[${string('service.name', app)}]},"scopeLogs":[{"scope":{"name":"${SCOPE_NAME}"},"logRecords":[`),
    )
    this.severities = synth.levelNames.map((level) => enc(`","severityNumber":${severityNumber(level)},"severityText":${JSON.stringify(level)},"body":{"stringValue":"`))
    this.runIdAttribute = enc(`"},"attributes":[${string('logbench.run_id', synth.runId)},{"key":"logbench.seq","value":{"intValue":"`)
    this.sources = synth.sourceNames.map((source) => enc(`"}},${string('source', source)},{"key":"user_id","value":{"intValue":"`))
    this.regions = REGIONS.map((region) => enc(`"}},${string('region', region)},`))
    this.envs = ENVS.map((env) => enc(`${string('env', env)}],"traceId":"`))
  }

  encode(count: number, seqOf: (i: number) => number, timestampMs: number, out: ByteWriter): Buffer {
    const {grouper, synth} = this
    if (timestampMs !== this.timeMs) {
      this.timeMs = timestampMs
      this.timeHead = enc(`{"timeUnixNano":"${nanosText(timestampMs)}`)
    }

    out.pos = 0
    out.ensure(64)
    out.bytes(OPEN)
    grouper.group(count, synth.appNames.length, (i) => synth.appOf(seqOf(i)))
    const {order, starts} = grouper
    let firstGroup = true
    for (let app = 0; app < synth.appNames.length; app++) {
      if (starts[app] === starts[app + 1]) continue
      out.ensure(this.resourceHeads[app].length + 1)
      if (!firstGroup) out.byte(44)
      firstGroup = false
      out.bytes(this.resourceHeads[app])
      for (let k = starts[app]; k < starts[app + 1]; k++) {
        if (k > starts[app]) {
          out.ensure(1)
          out.byte(44)
        }

        this.record(out, seqOf(order[k]), timestampMs)
      }

      out.ensure(8)
      out.bytes(GROUP_CLOSE)
    }

    out.ensure(4)
    out.bytes(CLOSE)
    return out.take()
  }

  private record(out: ByteWriter, seq: number, timestampMs: number): void {
    const {meta, synth} = this
    const drawn = synth.begin(seq)
    out.ensure(synth.entryBytes * 2 + 1024)
    out.bytes(this.timeHead)
    out.bytes(this.severities[drawn.level])
    if (synth.template) {
      const {scratch} = this
      scratch.pos = 0
      scratch.ensure(synth.entryBytes)
      synth.writeEntry(scratch, seq, timestampMs)
      out.jsonText(scratch.take())
    } else synth.writeMessage(out)
    out.bytes(this.runIdAttribute)
    out.uint(seq)
    if (synth.template) {
      out.bytes(TEMPLATE_TAIL)
      return
    }

    const source = drawn.source
    synth.drawMeta(meta)
    traceId(synth.seed, seq, this.trace)
    out.bytes(this.sources[source])
    out.uint(meta.userId)
    out.bytes(DURATION_HEAD)
    out.uint(meta.durationMs)
    out.bytes(this.regions[meta.region])
    out.bytes(this.envs[meta.env])
    for (const byte of this.trace) {
      out.byte(HEX[byte >>> 4])
      out.byte(HEX[byte & 15])
    }
    out.bytes(SPAN_HEAD)
    for (const nibble of meta.requestId) out.byte(HEX[nibble])
    out.bytes(RECORD_CLOSE)
  }

  judge(response: Parameters<BatchEncoder['judge']>[0], count: number, nowEpochMs: number): Ack {
    assertSuccess(response, nowEpochMs)
    return partialAck(response, count)
  }
}

const OPEN = enc('{"resourceLogs":[')
const CLOSE = enc(']}')
const GROUP_CLOSE = enc(']}]}')
const TEMPLATE_TAIL = enc('"}}]}')
const DURATION_HEAD = enc('"}},{"key":"duration_ms","value":{"intValue":"')
const SPAN_HEAD = enc('","spanId":"')
const RECORD_CLOSE = enc('"}')

/** partialSuccess of an ExportLogsServiceResponse, in the encoding of the answer. */
export function readPartialSuccess(response: {body: string; bytes?: Uint8Array; headers: Record<string, string | string[] | undefined>}): {rejected: number; message: string} {
  const type = String(response.headers['content-type'] ?? '')
  const text = response.body
  if (type.includes('json') || (!type.includes('protobuf') && text.trimStart().startsWith('{'))) {
    if (text.trim() === '') return {message: '', rejected: 0}
    const value = JSON.parse(text) as {partialSuccess?: {rejectedLogRecords?: string | number; errorMessage?: string}}
    return {message: value.partialSuccess?.errorMessage ?? '', rejected: Number(value.partialSuccess?.rejectedLogRecords ?? 0)}
  }

  const bytes = response.bytes ?? Buffer.from(text, 'latin1')
  const reader = Reader.create(bytes)
  let rejected = 0
  let message = ''
  while (reader.pos < reader.len) {
    const tag = reader.uint32()
    if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
      reader.skipType(tag & 7)
      continue
    }

    const end = reader.uint32() + reader.pos
    while (reader.pos < end) {
      const inner = reader.uint32()
      if (inner >>> 3 === 1 && (inner & 7) === 0) rejected = Number(reader.int64().toString())
      else if (inner >>> 3 === 2 && (inner & 7) === 2) message = reader.string()
      else reader.skipType(inner & 7)
    }
  }

  return {message, rejected}
}

function partialAck(response: Parameters<BatchEncoder['judge']>[0], count: number): Ack {
  let partial
  try {
    partial = readPartialSuccess(response)
  } catch {
    // A 2xx whose body is not an ExportLogsServiceResponse rejects nothing it names.
    return {acked: count, failed: []}
  }

  const rejected = Math.min(count, Math.max(0, Math.trunc(partial.rejected) || 0))
  if (rejected === 0) return {acked: count, failed: []}
  return {
    acked: count - rejected,
    failed: [{cls: 'partial', count: rejected, sample: `${rejected} of ${count} log records rejected${partial.message ? `: ${snippet(partial.message)}` : ''}`}],
  }
}

export function otlpEncoder(synth: LogSynth, encoding: OtlpEncoding): BatchEncoder {
  return encoding === 'json' ? new OtlpJson(synth) : new OtlpProtobuf(synth)
}
