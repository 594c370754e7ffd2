import {expect} from 'chai'
import {parse} from 'csv-parse/sync'

import {csvField, toCsv} from '../../../src/lib/format/csv.js'

describe('CSV output', () => {
  it('quotes only what needs quoting', () => {
    expect(csvField('plain')).to.equal('plain')
    expect(csvField(12.5)).to.equal('12.5')
    expect(csvField(null)).to.equal('')
    expect(csvField(true)).to.equal('true')
    expect(csvField('a,b')).to.equal('"a,b"')
    expect(csvField('say "hi"')).to.equal('"say ""hi"""')
    expect(csvField(' padded')).to.equal('" padded"')
    expect(csvField(Number.NaN)).to.equal('')
  })

  it('round-trips hostile values through a real CSV parser', () => {
    const values = ["x' OR 1=1 --", 'comma, inside', 'quote " inside', 'line\nbreak', 'crlf\r\nbreak', '日本語 😀', '', '=SUM(A1)']
    const text = toCsv(
      ['value', 'n'],
      values.map((value, i) => [value, i]),
    )
    const records = parse(text, {columns: true}) as {value: string; n: string}[]
    expect(records.map((record) => record.value)).to.deep.equal(values)
    expect(records.map((record) => Number(record.n))).to.deep.equal(values.map((_, i) => i))
  })

  it('refuses a row that does not match the header', () => {
    expect(() => toCsv(['a', 'b'], [[1]])).to.throw(/1 fields, header has 2/)
  })
})
