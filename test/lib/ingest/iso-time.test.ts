import {expect} from 'chai'

import {parseIsoUtc} from '../../../src/lib/ingest/iso-time.js'

describe('parseIsoUtc', () => {
  it('agrees with Date.parse on the shapes it reads and declines the rest', () => {
    const same = ['2026-11-28T12:34:56Z', '2026-11-28T12:34:56.789Z', '2024-02-29T00:00:00.000Z', '1999-12-31T23:59:59.999Z']
    for (const text of same) expect(parseIsoUtc(Buffer.from(text), 0, text.length), text).to.equal(Date.parse(text))
    const other = ['2026-11-28T12:34:56+01:00', '2026-11-28 12:34:56Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-28T24:00:00Z', '2026-11-28T12:34:56.7Z', '2026-1a-28T12:34:56Z', '2026-11-28T12:34:56.78xZ']
    for (const text of other) expect(parseIsoUtc(Buffer.from(text), 0, text.length), text).to.be.NaN
  })

  it('reads every day of 1999 to 2101 as Date.UTC does and declines the days a month lacks', () => {
    const pad = (value: number, width: number) => String(value).padStart(width, '0')
    let read = 0
    for (let year = 1999; year <= 2101; year++) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const [hour, minute, second, ms] = [(year + day) % 24, (month * 7 + day) % 60, (year * 3 + month) % 60, (year * month * day) % 1000]
          const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${pad(ms, 3)}Z`
          const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms)
          const real = new Date(utc).getUTCDate() === day
          const got = parseIsoUtc(Buffer.from(text), 0, text.length)
          if (real) expect(got, text).to.equal(utc)
          else expect(got, text).to.be.NaN
          if (real) read++
        }
      }
    }

    // 103 years, 25 of them leap years (2000 is one, 2100 is not).
    expect(read).to.equal(103 * 365 + 25)
  })
})
