import {expect} from 'chai'

import {makeRowWriter} from '../../../src/lib/ingest/row-format.js'
import {DEFAULT_LIMITS, type EncodeContext, encodeEntries as encodeWith, parseBody} from '../../../src/lib/ingest/validate.js'
import {makeRowEncoder} from '../../../src/lib/store/index.js'

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0, 123)
const ctx = (over: Partial<EncodeContext> = {}): EncodeContext => ({batchId: '', caps: {dateTime64: true}, limits: DEFAULT_LIMITS, now: NOW, ...over})
const encodeEntries = (entries: unknown[], c: EncodeContext) => encodeWith(entries, c, makeRowWriter('JSONEachRow', c.caps))

function encodeOk(entries: unknown[], over = {}): Record<string, unknown>[] {
  const result = encodeEntries(entries, ctx(over))
  if (!result.ok) throw new Error(JSON.stringify(result.details))
  return result.encoded.toString().trim().split('\n').map((line) => JSON.parse(line))
}

describe('ingest validation', () => {
  describe('parseBody', () => {
    it('takes one object, an array, {"logs": [...]} and NDJSON', () => {
      expect(parseBody('{"app_id":"a","message":"m"}', 'json')).to.deep.equal({entries: [{app_id: 'a', message: 'm'}]})
      expect(parseBody('[{"a":1},{"a":2}]', 'json')).to.deep.equal({entries: [{a: 1}, {a: 2}]})
      expect(parseBody('{"logs":[{"a":1}]}', 'json')).to.deep.equal({entries: [{a: 1}]})
      expect(parseBody('{"a":1}\n\n{"a":2}\r\n', 'ndjson')).to.deep.equal({entries: [{a: 1}, {a: 2}]})
    })

    it('names the broken line of NDJSON and refuses broken JSON', () => {
      const bad = parseBody('{"a":1}\n{nope\n', 'ndjson')
      expect(bad).to.have.property('error', 'invalid NDJSON body')
      expect((bad as {details: {index: number}[]}).details[0].index).to.equal(1)
      expect(parseBody('[{"a":1},', 'json')).to.have.property('error', 'body is not valid JSON')
      expect(parseBody('42', 'json')).to.have.property('error', 'invalid body')
    })
  })

  describe('encodeEntries', () => {
    it('encodes exactly what the store row encoder encodes for the same row', () => {
      const entry = {
        app_id: 'payment-service',
        level: 'warn',
        message: 'quote " backslash \\ newline \n unicode é😀',
        metadata: {run_id: 'run-1', seq: 42, user: "o'k"},
        source: 'api',
        timestamp: '2026-11-28T11:59:59.500Z',
      }
      const result = encodeEntries([entry], ctx({batchId: 'key-1'}))
      expect(result.ok).to.equal(true)
      const expected = makeRowEncoder({dateTime64: true})({
        app_id: entry.app_id,
        batch_id: 'key-1',
        created_at: NOW,
        level: 'warn',
        message: entry.message,
        metadata: JSON.stringify(entry.metadata),
        run_id: 'run-1',
        seq: 42,
        source: 'api',
        timestamp: Date.parse(entry.timestamp),
      })
      expect((result as {encoded: Buffer}).encoded.toString()).to.equal(expected)
    })

    it('defaults level to info, timestamp to the ingest time, and lower-cases levels', () => {
      const [a, b] = encodeOk([{app_id: 'a', message: 'm'}, {app_id: 'b', level: 'ERROR', message: 'm', timestamp: 1_764_331_200_000}])
      expect(a).to.include({created_at: NOW, level: 'info', metadata: '', run_id: '', seq: 0, source: '', timestamp: NOW})
      expect(b).to.include({level: 'error', timestamp: 1_764_331_200_000})
    })

    it('uses seconds for servers without DateTime64', () => {
      const [row] = encodeOk([{app_id: 'a', message: 'm'}], {caps: {dateTime64: false}})
      expect(row.created_at).to.equal(Math.floor(NOW / 1000))
    })

    it('keeps fields beyond the schema in metadata instead of dropping them', () => {
      const [row] = encodeOk([{app_id: 'a', host: 'h1', message: 'm', metadata: {k: 1}}])
      expect(JSON.parse(row.metadata as string)).to.deep.equal({host: 'h1', k: 1})
    })

    it('rejects the whole request, naming each bad entry and field', () => {
      const result = encodeEntries(
        [
          {app_id: 'ok', message: 'fine'},
          {level: 'info', message: 'x'},
          {app_id: 'bad id!', message: 'x'},
          {app_id: 'a', level: 'loud', message: 'x'},
          {app_id: 'a', message: 7},
          {app_id: 'a', message: 'x', metadata: [1]},
          {app_id: 'a', message: 'x', timestamp: 1_764_331_200},
          {app_id: 'a', message: 'x', timestamp: 'yesterday'},
          'not an object',
          {app_id: 'a', message: 'x', metadata: {seq: -1}},
        ],
        ctx(),
      )
      expect(result.ok).to.equal(false)
      const details = (result as {details: {index: number; field: string}[]}).details
      expect(details.map((d) => `${d.index}:${d.field}`)).to.deep.equal([
        '1:app_id',
        '2:app_id',
        '3:level',
        '4:message',
        '5:metadata',
        '6:timestamp',
        '7:timestamp',
        '8:',
        '9:metadata.seq',
      ])
    })

    it('caps message size in UTF-8 bytes', () => {
      const limits = {...DEFAULT_LIMITS, maxMessageBytes: 10}
      expect(encodeEntries([{app_id: 'a', message: 'é'.repeat(5)}], ctx({limits})).ok).to.equal(true)
      expect(encodeEntries([{app_id: 'a', message: 'é'.repeat(6)}], ctx({limits})).ok).to.equal(false)
    })

    it('refuses an empty batch', () => {
      expect(encodeEntries([], ctx()).ok).to.equal(false)
    })
  })
})

describe('ingest validation of times and text', () => {
  const one = (entry: Record<string, unknown>) => encodeEntries([{app_id: 'a', message: 'm', ...entry}], ctx())

  it('accepts ISO-8601 times with a zone, and refuses those without one or on no real day', () => {
    expect(one({timestamp: '2026-11-28T12:00:00+01:00'}).ok).to.equal(true)
    expect(one({timestamp: '2026-11-28T12:00:00.5-0330'}).ok).to.equal(true)
    for (const timestamp of ['2026-11-28T12:00:00', '1 2 3', '2024-02-30T00:00:00Z', '2024-02-30T00:00:00+00:00', 'Nov 28 2026']) {
      expect(one({timestamp}).ok, timestamp).to.equal(false)
    }
  })

  it('refuses lone surrogates in message, source and run_id', () => {
    expect(one({message: 'ok 😀'}).ok).to.equal(true)
    for (const entry of [{message: 'x\ud800'}, {source: '\udc00'}, {metadata: {run_id: 'r\ud800'}}]) {
      const result = one(entry)
      expect(result.ok, JSON.stringify(entry)).to.equal(false)
      expect((result as {details: {reason: string}[]}).details[0].reason).to.match(/well-formed/)
    }
  })
})
