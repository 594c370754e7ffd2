import {expect} from 'chai'

import {
  byteScale,
  displayText,
  formatBytesIn,
  formatCompact,
  formatDuration,
  formatInt,
  formatInterval,
  formatPercent,
  formatUtc,
  isoTime,
} from '../../../src/lib/format/units.js'
import {renderTable} from '../../../src/lib/format/table.js'

describe('formatting for people', () => {
  it('formats counts, percentages and compact axis numbers', () => {
    expect(formatInt(1_234_567)).to.equal('1,234,567')
    expect(formatInt(null)).to.equal('—')
    expect(formatPercent(0.1234)).to.equal('12.3')
    expect(formatCompact(950)).to.equal('950')
    expect(formatCompact(12_345)).to.equal('12.3k')
    expect(formatCompact(4_500_000)).to.equal('4.5M')
    expect(formatCompact(250_000)).to.equal('250k')
  })

  it('picks one byte unit per column from its largest value, for the header', () => {
    expect(byteScale([10, 900]).unit).to.equal('B')
    expect(byteScale([10, 2048]).unit).to.equal('KiB')
    expect(byteScale([5 * 1024 ** 3, 1]).unit).to.equal('GiB')
    const mib = byteScale([3 * 1024 ** 2])
    expect(formatBytesIn(mib, 1.5 * 1024 ** 2)).to.equal('1.50')
    expect(formatBytesIn(byteScale([]), 512)).to.equal('512')
  })

  it('formats times in UTC and intervals in their largest exact unit', () => {
    const ms = Date.UTC(2024, 4, 1, 12, 0, 3)
    expect(formatUtc(ms)).to.equal('2024-05-01 12:00:03')
    expect(formatUtc(ms + 250)).to.equal('2024-05-01 12:00:03.250')
    expect(formatUtc(null)).to.equal('—')
    expect(isoTime(ms)).to.equal('2024-05-01T12:00:03.000Z')
    expect(formatInterval(60_000)).to.equal('1m')
    expect(formatInterval(1500)).to.equal('1500ms')
    expect(formatInterval(7_200_000)).to.equal('2h')
    expect(formatDuration(250)).to.equal('250ms')
    expect(formatDuration(61_000)).to.equal('1m 1s')
    expect(formatDuration(3_723_000)).to.equal('1h 2m 3s')
    expect(formatDuration(179_986)).to.equal('3m') // not "2m 60s"
    expect(formatDuration(59_999)).to.equal('60s')
  })

  it('never lets data drive the terminal: control characters and escapes are shown, not interpreted', () => {
    expect(displayText('evil\u001B[2Japp')).to.equal('evil\\x1b[2Japp')
    expect(displayText('two\nlines\ttab')).to.equal('two\\nlines\\ttab')
    expect(displayText('x'.repeat(100), 10)).to.equal('x'.repeat(9) + '…')
    expect(displayText('日本語😀')).to.equal('日本語😀')
  })

  it('renders a table with units in the header and a note when empty', () => {
    const table = renderTable({align: ['left', 'right'], head: ['app_id', 'logs'], rows: [['a', '1,000']]})
    expect(table).to.include('app_id').and.include('1,000')
    expect(renderTable({head: ['app_id', 'logs'], rows: []})).to.include('(no rows)')
  })
})
