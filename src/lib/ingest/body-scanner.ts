/**
 * The fast path from request bytes to insert bytes: one pass over the UTF-8
 * body that checks the JSON grammar and the log fields and hands the field
 * bytes straight to a RowWriter, building no objects and (almost) no strings.
 *
 * It takes the common shape only: entries with the known fields, \u escapes
 * only inside metadata (stored as the JSON text sent), metadata written
 * compactly (no whitespace) at most MAX_DEPTH deep, a timestamp string or integer. Anything else, valid or not,
 * makes it give up (-1), and the general path (validate.ts: JSON.parse, then
 * field checks) decides instead, with the same result and its error details.
 * The caller checks beforehand that the body is valid UTF-8.
 */
import type {BodyFormat, EncodeContext} from './validate.js'
import type {RowWriter} from './row-format.js'

import {LEVELS} from '../store/index.js'
import {parseIsoUtc} from './iso-time.js'
import {checkTime, MAX_DEPTH, parseTime} from './validate.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const NEWLINE = 0x0a

/** Per byte inside a string: 0 plain, 1 quote, 2 backslash, 3 control character. */
const STRING_CLASS = new Uint8Array(256)
for (let c = 0; c < 0x20; c++) STRING_CLASS[c] = 3
STRING_CLASS[QUOTE] = 1
STRING_CLASS[BACKSLASH] = 2
/** Escapes the writers decode: \" \\ \/ \b \f \n \r \t (never \u). */
const SIMPLE_ESCAPE = new Uint8Array(256)
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1
const HEX = new Uint8Array(256)
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1
/** Bytes an app_id may hold after its first: letters, digits, _ . : / - */
const APP_ID_BYTE = new Uint8Array(256)
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z0-9]/.test(ch)) APP_ID_BYTE[c] = 2
  else if (/[_.:\/-]/.test(ch)) APP_ID_BYTE[c] = 1
}

const FIELD = {app_id: 1, level: 2, message: 4, metadata: 8, source: 16, timestamp: 32} as const
const LEVEL_BY_FIRST = new Uint8Array(256).fill(255)
for (const [i, level] of LEVELS.entries()) LEVEL_BY_FIRST[level.charCodeAt(0)] = i
const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')]

/** Each field's name by its bit, as bytes. */
const FIELD_BYTES: Uint8Array[] = []
for (const [name, bit] of Object.entries(FIELD)) FIELD_BYTES[bit] = Buffer.from(name, 'latin1')
const LEVEL_BYTES = LEVELS.map((level) => Buffer.from(level, 'latin1'))
const RUN_ID = Buffer.from('run_id', 'latin1')
const SEQ = Buffer.from('seq', 'latin1')
const LOGS = Buffer.from('logs', 'latin1')
/** The candidate field by a key's first byte (message and metadata share theirs). */
const FIELD_BY_FIRST = new Uint8Array(256)
for (const [name, bit] of Object.entries(FIELD)) if (name !== 'metadata') FIELD_BY_FIRST[name.charCodeAt(0)] = bit

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39

function sliceEquals(b: Buffer, start: number, end: number, text: Uint8Array): boolean {
  const n = text.length
  if (end - start !== n) return false
  for (let i = 0; i < n; i++) if (b[start + i] !== text[i]) return false
  return true
}

/**
 * The field whose name and closing quote start at `at`, right after a key's opening quote;
 * 0 for any other key, an escaped one included (the general path's).
 */
function fieldAt(b: Buffer, at: number): number {
  if (at >= b.length) return 0
  let field = FIELD_BY_FIRST[b[at]]
  if (field === FIELD.message && b[at + 1] === 0x65 && b[at + 2] === 0x74) field = FIELD.metadata
  if (field === 0) return 0
  const name = FIELD_BYTES[field]
  const end = at + name.length
  return b[end] === QUOTE && sliceEquals(b, at, end, name) ? field : 0
}

/** Words are read in memory order only on little-endian machines (elsewhere byte by byte). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1
/** Four plain bytes ('AAAA'), shifted in for the bytes of a word before a string's position. */
const PLAIN_WORD = 0x41_41_41_41

/**
 * The high bit of each byte of a little-endian word that is a quote, a backslash or a control
 * byte, 0 when none is. Borrows only run upwards, so the lowest flagged byte is always exactly
 * the first such byte (a higher flag may be spurious, and is never used).
 */
function specialBytes(x: number): number {
  const quote = x ^ 0x22_22_22_22
  const backslash = x ^ 0x5c_5c_5c_5c
  return (((x - 0x20_20_20_20) & ~x) | ((quote - 0x01_01_01_01) & ~quote) | ((backslash - 0x01_01_01_01) & ~backslash)) & 0x80_80_80_80
}

/** The index (0-3) of the lowest byte flagged by specialBytes. */
function firstFlagged(flags: number): number {
  return (31 - Math.clz32(flags & -flags)) >> 3
}

class Scanner {
  b: Buffer = Buffer.alloc(0)
  p = 0
  /**
   * The body as aligned 32-bit words, read four bytes at a time inside strings: `words[i]` holds
   * bytes wordStart + 4i .. + 3 (little-endian).
   */
  words: Int32Array<ArrayBufferLike> = new Int32Array(0)
  wordStart = 0
  /** Whether a newline counts as whitespace (not inside an NDJSON line). */
  newlineIsSpace = true
  // The last string read: content bounds, and whether it holds escapes.
  s = 0
  e = 0
  escaped = false
  /** It holds a \u escape (kept as written in metadata; elsewhere the general path decodes it). */
  unicode = false
  // What the metadata object's top level said about run_id and seq.
  runStart = -1
  runEnd = -1
  seq = -1

  space(): void {
    const {b} = this
    let {p} = this
    // Compact JSON: no whitespace at all, the usual case.
    if (b[p] > 0x20) return
    for (;;) {
      const c = b[p]
      if (c === 0x20 || c === 0x09 || c === 0x0d || (c === NEWLINE && this.newlineIsSpace)) p++
      else break
    }

    this.p = p
  }

  /** At a quote: read the string. */
  string(): boolean {
    const {b} = this
    const n = b.length
    let p = this.p + 1
    const start = p
    let escaped = false
    let unicode = false
    const {words, wordStart} = this
    const lastWord = words.length
    for (;;) {
      // Four bytes at a time, from the word holding p, up to the first quote, backslash or
      // control byte (see specialBytes); its bytes before p count as plain.
      const at = p - wordStart
      if (LITTLE_ENDIAN && at >= 0 && at >> 2 < lastWord) {
        let i = at >> 2
        const before = (at & 3) * 8
        let flags = before === 0 ? specialBytes(words[i]) : specialBytes((words[i] >>> before) | (PLAIN_WORD << (32 - before)))
        if (flags !== 0) p += firstFlagged(flags)
        else {
          for (i++; i < lastWord; i++) {
            flags = specialBytes(words[i])
            if (flags !== 0) break
          }

          p = wordStart + (i << 2) + (i < lastWord ? firstFlagged(flags) : 0)
        }
      }

      if (p >= n) return false
      const kind = STRING_CLASS[b[p]]
      if (kind === 0) p++
      else if (kind === 1) break
      else if (kind === 2 && SIMPLE_ESCAPE[b[p + 1]] === 1) {
        escaped = true
        p += 2
      } else if (kind === 2 && b[p + 1] === 0x75 && HEX[b[p + 2]] & HEX[b[p + 3]] & HEX[b[p + 4]] & HEX[b[p + 5]]) {
        escaped = true
        unicode = true
        p += 6
      } else return false
    }

    this.s = start
    this.e = p
    this.escaped = escaped
    this.unicode = unicode
    this.p = p + 1
    return true
  }

  number(): boolean {
    const {b} = this
    let {p} = this
    if (b[p] === 0x2d) p++
    if (b[p] === 0x30) p++
    else if (b[p] >= 0x31 && b[p] <= 0x39) while (isDigit(b[++p]));
    else return false
    if (b[p] === 0x2e) {
      if (!isDigit(b[++p])) return false
      while (isDigit(b[++p]));
    }

    if (b[p] === 0x65 || b[p] === 0x45) {
      p++
      if (b[p] === 0x2b || b[p] === 0x2d) p++
      if (!isDigit(b[p])) return false
      while (isDigit(b[++p]));
    }

    this.p = p
    return true
  }

  /** Any JSON value, written without whitespace, nested at most MAX_DEPTH deep. */
  value(depth: number): boolean {
    const {b} = this
    const c = b[this.p]
    if (c === QUOTE) return this.string()
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth > MAX_DEPTH) return false
      const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY
      if (b[++this.p] === close) {
        this.p++
        return true
      }

      for (;;) {
        if (c === OPEN_OBJECT) {
          if (b[this.p] !== QUOTE || !this.string() || b[this.p] !== COLON) return false
          this.p++
        }

        if (!this.value(depth + 1)) return false
        const next = b[this.p++]
        if (next === close) return true
        if (next !== COMMA) return false
      }
    }

    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      const literal = LITERALS[c === 0x74 ? 0 : c === 0x66 ? 1 : 2]
      for (let i = 0; i < literal.length; i++) if (b[this.p + i] !== literal[i]) return false
      this.p += literal.length
      return true
    }

    return this.number()
  }

  /** The metadata object: a value of depth 1 whose own run_id and seq are read on the way. */
  metadata(): boolean {
    const {b} = this
    this.runStart = -1
    this.seq = -1
    if (b[this.p] !== OPEN_OBJECT) return false
    if (b[++this.p] === CLOSE_OBJECT) {
      this.p++
      return true
    }

    let seenRun = false
    let seenSeq = false
    for (;;) {
      if (b[this.p] !== QUOTE || !this.string() || b[this.p] !== COLON) return false
      const keyStart = this.s
      const keyEnd = this.e
      const keyEscaped = this.escaped
      this.p++
      const valueStart = this.p
      if (!this.value(2)) return false
      if (keyEscaped) return false
      if (sliceEquals(b, keyStart, keyEnd, RUN_ID)) {
        // The general path settles repeated keys, other types and escapes.
        if (seenRun || b[valueStart] !== QUOTE || this.escaped) return false
        seenRun = true
        this.runStart = this.s
        this.runEnd = this.e
      } else if (sliceEquals(b, keyStart, keyEnd, SEQ)) {
        if (seenSeq || this.p - valueStart > 15) return false
        let seq = 0
        for (let i = valueStart; i < this.p; i++) {
          if (!isDigit(b[i])) return false
          seq = seq * 10 + b[i] - 0x30
        }

        seenSeq = true
        this.seq = seq
      }

      const next = b[this.p++]
      if (next === CLOSE_OBJECT) return true
      if (next !== COMMA) return false
    }
  }

  /** One log entry at an opening brace, written to `w`. */
  entry(ctx: EncodeContext, w: RowWriter): boolean {
    const {b} = this
    const {limits} = ctx
    this.p++
    this.space()
    let seen = 0
    let appStart = 0
    let appEnd = 0
    let level = 1
    let messageStart = 0
    let messageEnd = 0
    let messageEscaped = false
    let sourceStart = -1
    let sourceEnd = 0
    let sourceEscaped = false
    let metaStart = -1
    let metaEnd = 0
    let timestamp = ctx.now
    for (;;) {
      if (b[this.p] !== QUOTE) return false
      const field = fieldAt(b, this.p + 1)
      // Other fields (kept in metadata) and repeated ones are the general path's.
      if (field === 0 || (seen & field) !== 0) return false
      seen |= field
      // Past the key's quotes.
      this.p += FIELD_BYTES[field].length + 2
      this.space()
      if (b[this.p++] !== COLON) return false
      this.space()
      const isString = b[this.p] === QUOTE
      if (field === FIELD.metadata) {
        metaStart = this.p
        if (!this.metadata()) return false
        metaEnd = this.p
        if (metaEnd - metaStart > limits.maxMetadataBytes) return false
      } else if (field === FIELD.timestamp) {
        const start = this.p
        if (isString ? !this.string() || this.escaped : !this.number()) return false
        // The usual shape is read from the bytes; other shapes get the general parser.
        const iso = isString ? parseIsoUtc(b, this.s, this.e) : Number.NaN
        const parsed = Number.isNaN(iso)
          ? parseTime(isString ? b.toString('latin1', this.s, this.e) : Number(b.toString('latin1', start, this.p)), ctx.now)
          : checkTime(iso, ctx.now)
        if (typeof parsed === 'string') return false
        timestamp = parsed
      } else {
        // A \u escape in a column of its own is decoded (and checked for lone surrogates) by the general path.
        if (!isString || !this.string() || this.unicode) return false
        const length = this.e - this.s
        if (field === FIELD.app_id) {
          if (this.escaped || length === 0 || length > limits.maxAppIdLength || APP_ID_BYTE[b[this.s]] !== 2) return false
          for (let i = this.s + 1; i < this.e; i++) if (APP_ID_BYTE[b[i]] === 0) return false
          appStart = this.s
          appEnd = this.e
        } else if (field === FIELD.level) {
          // The levels differ in their first letter.
          level = LEVEL_BY_FIRST[b[this.s]]
          if (level === 255 || !sliceEquals(b, this.s, this.e, LEVEL_BYTES[level])) return false
        } else if (field === FIELD.message) {
          if (length > limits.maxMessageBytes) return false
          messageStart = this.s
          messageEnd = this.e
          messageEscaped = this.escaped
        } else {
          if (length > limits.maxSourceLength) return false
          sourceStart = this.s
          sourceEnd = this.e
          sourceEscaped = this.escaped
        }
      }

      this.space()
      const next = b[this.p++]
      if (next === CLOSE_OBJECT) break
      if (next !== COMMA) return false
      this.space()
    }

    if ((seen & (FIELD.app_id | FIELD.message)) !== (FIELD.app_id | FIELD.message)) return false
    w.begin(timestamp, ctx.now)
    w.jsonStr(b, appStart, appEnd, false)
    w.level(level)
    w.jsonStr(b, messageStart, messageEnd, messageEscaped)
    if (sourceStart >= 0) w.jsonStr(b, sourceStart, sourceEnd, sourceEscaped)
    else w.str('')
    if (metaStart >= 0) w.jsonText(b, metaStart, metaEnd)
    else w.str('')
    const hasRun = metaStart >= 0 && this.runStart >= 0
    if (hasRun) w.jsonStr(b, this.runStart, this.runEnd, false)
    else w.str('')
    w.seq(metaStart >= 0 && this.seq >= 0 ? this.seq : 0)
    w.end(ctx.batchId)
    return true
  }

  /** Entries of an array at its opening bracket; the count, or -1. */
  array(ctx: EncodeContext, w: RowWriter): number {
    const {b} = this
    this.p++
    this.space()
    let rows = 0
    for (;;) {
      if (b[this.p] !== OPEN_OBJECT || !this.entry(ctx, w)) return -1
      rows++
      this.space()
      const next = b[this.p++]
      if (next === CLOSE_ARRAY) return rows
      if (next !== COMMA) return -1
      this.space()
    }
  }

  json(ctx: EncodeContext, w: RowWriter): number {
    const {b} = this
    this.newlineIsSpace = true
    this.space()
    let rows = -1
    if (b[this.p] === OPEN_ARRAY) {
      rows = this.array(ctx, w)
    } else if (b[this.p] === OPEN_OBJECT) {
      const start = this.p
      this.p++
      this.space()
      // {"logs": [...]}: the wrapper, when its first field is logs.
      if (b[this.p] === QUOTE && this.string() && sliceEquals(b, this.s, this.e, LOGS)) {
        this.space()
        if (b[this.p++] !== COLON) return -1
        this.space()
        if (b[this.p] !== OPEN_ARRAY) return -1
        rows = this.array(ctx, w)
        if (rows < 0) return -1
        this.space()
        if (b[this.p++] !== CLOSE_OBJECT) return -1
      } else {
        this.p = start
        rows = this.entry(ctx, w) ? 1 : -1
      }
    }

    if (rows < 0) return -1
    this.space()
    return this.p === b.length ? rows : -1
  }

  ndjson(ctx: EncodeContext, w: RowWriter): number {
    const {b} = this
    let rows = 0
    for (;;) {
      this.newlineIsSpace = true
      this.space()
      if (this.p >= b.length) return rows
      if (b[this.p] !== OPEN_OBJECT) return -1
      this.newlineIsSpace = false
      if (!this.entry(ctx, w)) return -1
      rows++
      this.space()
      if (this.p < b.length && b[this.p] !== NEWLINE) return -1
    }
  }
}

const scanner = new Scanner()

/**
 * Encode a body of the common shape straight into `w`; the number of rows, or -1 when the
 * general path must decide (then `w` holds partial rows: reset it).
 */
export function scanBody(body: Buffer, format: BodyFormat, ctx: EncodeContext, w: RowWriter): number {
  scanner.b = body
  scanner.p = 0
  const skip = (4 - (body.byteOffset & 3)) & 3
  const count = Math.max(0, (body.length - skip) >> 2)
  scanner.words = count > 0 ? new Int32Array(body.buffer, body.byteOffset + skip, count) : new Int32Array(0)
  scanner.wordStart = skip
  try {
    const rows = format === 'ndjson' ? scanner.ndjson(ctx, w) : scanner.json(ctx, w)
    return rows > 0 ? rows : -1
  } finally {
    scanner.b = Buffer.alloc(0)
    scanner.words = new Int32Array(0)
  }
}
