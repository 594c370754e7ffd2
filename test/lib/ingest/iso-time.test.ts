import {expect} from 'chai'

import {parseIsoUtc} from '../../../src/lib/ingest/iso-time.js'

describe('parseIsoUtc', () => {
  it('agrees with Date.parse on the shapes it reads and declines the rest', () => {
    const same = ['2026-11-28T12:34:56Z', '2026-11-28T12:34:56.789Z', '2024-02-29T00:00:00.000Z', '1999-12-31T23:59:59.999Z']
    for (const text of same) expect(parseIsoUtc(Buffer.from(text), 0, text.length), text).to.equal(Date.parse(text))
    const other = ['2026-11-28T12:34:56+01:00', '2026-11-28 12:34:56Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-28T24:00:00Z', '2026-11-28T12:34:56.7Z', '2026-1a-28T12:34:56Z', '2026-11-28T12:34:56.78xZ']
    for (const text of other) expect(parseIsoUtc(Buffer.from(text), 0, text.length), text).to.be.NaN
  })
})
