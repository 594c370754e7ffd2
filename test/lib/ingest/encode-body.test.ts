/**
 * Request body -> insert body, as a property: every body (valid, mutated, cut
 * short, random bytes) is either refused with 400 or encoded into rows that
 * decode back to exactly what the body said. Both paths (the byte scanner with
 * its fallback, and the general path alone), both formats, both time precisions,
 * on the same corpus; and the same bodies inserted into the embedded engine in
 * both formats (RowBinary through its insert files) and read back from it.
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {scanBody} from '../../../src/lib/ingest/body-scanner.js'
import {encodeBody} from '../../../src/lib/ingest/encode-body.js'
import {makeRowWriter} from '../../../src/lib/ingest/row-format.js'
import {DEFAULT_LIMITS, type EncodeContext, MAX_DEPTH} from '../../../src/lib/ingest/validate.js'
import {type Store} from '../../../src/lib/store/index.js'
import {createTableSql} from '../../../src/lib/store/schema.js'
import {backends, openEmbeddedStore, uniqueDatabase} from '../../helpers.js'
import {brokenBody, canonicalMetadata, decodeJsonEachRow, decodeRowBinary, entriesOf, expectedRow, randomBody, sortedRows, validBody} from './body-model.js'

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0, 123)
const KEY = 'key-1'
const variants = [
  {dateTime64: true, format: 'RowBinary' as const},
  {dateTime64: false, format: 'RowBinary' as const},
  {dateTime64: true, format: 'JSONEachRow' as const},
  {dateTime64: false, format: 'JSONEachRow' as const},
].map((v) => ({...v, writer: makeRowWriter(v.format, v)}))

/**
 * Idempotency keys, which become every row's batch_id: none, short, long enough for a
 * two-byte length, non-ASCII. The writers are shared, so a key also follows a different one.
 */
const batchIds = fc.oneof(fc.constant(''), fc.constant(KEY), fc.string({maxLength: 200}), fc.string({maxLength: 70, unit: 'grapheme'}))

const decodeRows = (v: (typeof variants)[number], bytes: Buffer) => (v.format === 'RowBinary' ? decodeRowBinary(bytes, v.dateTime64) : decodeJsonEachRow(bytes))

/** Encode one body every way; check each against the model and the two paths against each other. */
function check(bytes: Buffer, format: 'json' | 'ndjson', mustAccept: boolean, batchId = KEY): void {
  const entries = entriesOf(bytes, format)
  for (const v of variants) {
    const ctx: EncodeContext = {batchId, caps: {dateTime64: v.dateTime64}, limits: DEFAULT_LIMITS, now: NOW}
    const outcomes = [true, false].map((fast) => encodeBody(bytes, format, ctx, v.writer, {fast}))
    expect(outcomes[0].ok, 'both paths accept or both refuse').to.equal(outcomes[1].ok)
    for (const result of outcomes) {
      if (!result.ok) {
        expect(mustAccept, `a valid body was refused: ${result.error} ${JSON.stringify(result.details)}`).to.equal(false)
        expect(result.status).to.equal(400)
        expect(result.error).to.be.a('string').and.not.equal('')
        continue
      }

      expect(entries, 'accepted a body that is not JSON entries').to.not.equal(undefined)
      const decoded = decodeRows(v, result.encoded)
      const expected = entries!.map((entry) => expectedRow(entry as Record<string, unknown>, NOW, batchId, v.dateTime64))
      expect(result.rows).to.equal(entries!.length)
      expect(decoded).to.deep.equal(expected)
    }
  }
}

describe('request body to insert body (property)', () => {
  it('accepts every valid body and stores exactly its values', () => {
    let scanned = 0
    const ctx: EncodeContext = {batchId: KEY, caps: {dateTime64: true}, limits: DEFAULT_LIMITS, now: NOW}
    fc.assert(
      fc.property(validBody(NOW), batchIds, ({bytes, format}, batchId) => {
        check(bytes, format, true, batchId)
        const w = variants[0].writer
        if (scanBody(bytes, format, ctx, w) > 0) scanned++
        w.reset()
      }),
      {numRuns: 400},
    )
    // The corpus reaches the fast path often, not only its fallback.
    expect(scanned).to.be.greaterThan(40)
  })

  it('refuses a mutated or truncated body with 400, or stores exactly what it says', () => {
    fc.assert(fc.property(brokenBody(NOW), batchIds, ({bytes, format}, batchId) => check(bytes, format, false, batchId)), {numRuns: 3000})
  })

  it('encodes bodies that outgrow the first 1 MiB of a writer exactly, wherever a row meets the end', () => {
    // Rows of one size after a first row longer by 0 to 199 bytes (more than a row): some row
    // starts at each offset of the buffer's last bytes, its field names and batch id included.
    // Rows are encoded independently, so the body's rows are its one-row encodings end to end
    // (and those decode to the model's values in the tests above).
    const entry = {app_id: 'api', level: 'warn', message: 'm', metadata: {run_id: 'r', seq: 1}, timestamp: '2026-11-28T11:00:00.000Z'}
    for (const v of variants) {
      const ctx: EncodeContext = {batchId: 'a-batch-id', caps: {dateTime64: v.dateTime64}, limits: DEFAULT_LIMITS, now: NOW}
      const encode = (entries: unknown[]) => {
        const result = encodeBody(Buffer.from(JSON.stringify(entries)), 'json', ctx, makeRowWriter(v.format, v))
        if (!result.ok) throw new Error(result.error)
        return result.encoded
      }

      const row = encode([entry])
      expect(decodeRows(v, row)).to.deep.equal([expectedRow(entry, NOW, 'a-batch-id', v.dateTime64)])
      expect(row.length, 'a row is shorter than the padding covers').to.be.below(200)
      const rows = Math.ceil((1 << 20) / row.length) + 2
      for (let pad = 0; pad < 200; pad++) {
        const first = {...entry, message: 'm'.repeat(1 + pad)}
        const body = encode([first, ...Array.from({length: rows}, () => entry)])
        expect(body.length, 'past the first 1 MiB').to.be.greaterThan(1 << 20)
        expect(body.equals(Buffer.concat([encode([first]), ...Array.from({length: rows}, () => row)])), `${v.format}, first row ${pad} bytes longer`).to.equal(true)
      }
    }
  })

  it('reads strings four bytes at a time at every alignment: a quote, an escape or a control byte anywhere gives the general path its say', () => {
    // The scanner reads string bytes as aligned 32-bit words; a body's bytes start at any offset
    // of their memory. Each special byte (an escaped quote, a \\n escape, a raw control byte, which
    // is invalid JSON, a two-byte UTF-8 character) at each position of the message and of a
    // metadata value, in bodies at each of the four alignments.
    const specials = ['\\"', '\\n', '\u0001', '\u00e9']
    const ctx: EncodeContext = {batchId: KEY, caps: {dateTime64: true}, limits: DEFAULT_LIMITS, now: NOW}
    for (let offset = 0; offset < 4; offset++) {
      for (const special of specials) {
        for (let at = 0; at < 13; at++) {
          const text = 'a'.repeat(at) + special + 'b'.repeat(12 - at)
          const json = `[{"app_id":"api","level":"info","message":"${text}","metadata":{"run_id":"r","seq":3,"k":"${text}"}}]`
          const source = Buffer.from(json)
          const bytes = Buffer.alloc(source.length + offset).subarray(offset)
          source.copy(bytes)
          expect(bytes.byteOffset % 4).to.equal(offset)
          const valid = special !== '\u0001'
          check(bytes, 'json', valid)
          // The valid ones are the scanner's own, not its fallback's.
          const w = variants[0].writer
          expect(scanBody(bytes, 'json', ctx, w), `${JSON.stringify(text)} at offset ${offset}`).to.equal(valid ? 1 : -1)
          w.reset()
        }
      }
    }
  })

  it('refuses random bytes with 400, or stores exactly what they say', () => {
    fc.assert(fc.property(randomBody, ({bytes, format}) => check(bytes, format, false)), {numRuns: 500})
  })
})

describe('request body to insert body (bad input classes)', () => {
  const ctx: EncodeContext = {batchId: '', caps: {dateTime64: false}, limits: DEFAULT_LIMITS, now: NOW}
  const w = makeRowWriter('RowBinary', {dateTime64: false})

  it('refuses metadata nested deeper than the limit with 400 naming the field, not a crash', () => {
    for (const levels of [MAX_DEPTH + 1, 100_000]) {
      const body = Buffer.from('[{"app_id":"a","message":"m","metadata":' + '{"a":'.repeat(levels) + '1' + '}'.repeat(levels) + '}]')
      for (const fast of [true, false]) {
        const result = encodeBody(body, 'json', ctx, w, {fast})
        expect(result.ok, `${levels} levels`).to.equal(false)
        expect((result as {details: {field: string; reason: string}[]}).details[0]).to.deep.include({field: 'metadata', reason: `nested deeper than ${MAX_DEPTH} levels`})
      }
    }

    const atLimit = Buffer.from('[{"app_id":"a","message":"m","metadata":' + '{"a":'.repeat(MAX_DEPTH) + '1' + '}'.repeat(MAX_DEPTH) + '}]')
    expect(encodeBody(atLimit, 'json', ctx, w).ok).to.equal(true)
  })

  it('refuses a body that is not valid UTF-8 with 400 naming the byte, instead of storing U+FFFD', () => {
    const good = Buffer.from('[{"app_id":"a","message":"caf\u00e9"}]')
    expect(encodeBody(good, 'json', ctx, w).ok).to.equal(true)
    const prefix = Buffer.from('[{"app_id":"a","message":"caf')
    // A lone Latin-1 byte, an encoded surrogate, an overlong encoding, a sequence cut short.
    for (const bad of [[0xe9], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]) {
      const body = Buffer.concat([prefix, Buffer.from(bad), Buffer.from('"}]')])
      const result = encodeBody(body, 'json', ctx, w)
      expect(result.ok).to.equal(false)
      expect(result).to.deep.include({error: 'body is not valid UTF-8; nothing from this request was stored', status: 400})
      expect((result as {details: {reason: string}[]}).details[0].reason).to.equal(`invalid UTF-8 byte sequence at byte ${prefix.length}`)
    }
  })
})

describe('request body to insert body, stored by the embedded engine (property)', function () {
  const database = uniqueDatabase('lbencode')
  // One table for each time precision: the engine's own (DateTime64(3)) and one of DateTime.
  const stores: {store: Store; dateTime64: boolean}[] = []

  before(async () => {
    const ms = await openEmbeddedStore(database)
    await ms.ensureSchema()
    await ms.command(createTableSql(database, 'logs_seconds', {...ms.info.capabilities, dateTime64: false}))
    const seconds = await openEmbeddedStore(database, 'logs_seconds')
    stores.push({dateTime64: true, store: ms}, {dateTime64: false, store: seconds})
  })

  after(async () => {
    await stores[0]?.store.command(`DROP DATABASE IF EXISTS \`${database}\``)
    for (const {store} of stores) await store.close()
    backends[1].cleanup()
  })

  it('stores exactly what each accepted body says, in both formats and both precisions, read back from the engine', async () => {
    expect(stores.map(({store}) => store.info.capabilities.dateTime64)).to.deep.equal([true, false])
    for (const {store} of stores) expect(store.info.insertFormats).to.include('RowBinary')
    let n = 0
    let stored = 0
    await fc.assert(
      fc.asyncProperty(fc.oneof({arbitrary: validBody(NOW), weight: 3}, {arbitrary: brokenBody(NOW), weight: 1}), batchIds, async ({bytes, format}, key) => {
        const entries = entriesOf(bytes, format)
        for (const {dateTime64, store} of stores) {
          for (const insertFormat of ['RowBinary', 'JSONEachRow'] as const) {
            for (const fast of [true, false]) {
              // Each insert's rows are told apart by their batch id (the key, after a case number).
              const batchId = `${n++}:${key}`
              const ctx: EncodeContext = {batchId, caps: {dateTime64}, limits: DEFAULT_LIMITS, now: NOW}
              const result = encodeBody(bytes, format, ctx, makeRowWriter(insertFormat, {dateTime64}), {fast})
              if (!result.ok) continue
              await store.insert(result.encoded, {format: insertFormat})
              stored++
              const time = (column: string) => (dateTime64 ? `toUnixTimestamp64Milli(${column})` : `toUnixTimestamp(${column})`)
              const rows = await store.query<Record<string, unknown>>(
                `SELECT ${time('timestamp')} AS timestamp, ${time('created_at')} AS created_at, app_id, toString(level) AS level, message, source, metadata, run_id, seq, batch_id
                 FROM ${store.tableRef} WHERE batch_id = {batchId:String}`,
                {batchId},
              )
              const back = rows.map((row) => ({...row, metadata: canonicalMetadata(row.metadata as string)}))
              const expected = entries!.map((entry) => expectedRow(entry as Record<string, unknown>, NOW, batchId, dateTime64))
              expect(sortedRows(back as never), `${insertFormat}, ${dateTime64 ? 'DateTime64' : 'DateTime'}, ${fast ? 'fast' : 'general'} path`).to.deep.equal(sortedRows(expected))
            }
          }
        }
      }),
      {numRuns: 60, seed: 20},
    )
    expect(stored).to.be.greaterThan(150)
  })
})
