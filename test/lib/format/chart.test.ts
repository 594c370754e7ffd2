import chalk from 'chalk'
import {expect} from 'chai'

import {type ChartPoint, renderColumnChart} from '../../../src/lib/format/chart.js'

// eslint-disable-next-line no-control-regex
const visibleWidth = (line: string) => [...line.replaceAll(/\u001B\[[0-9;]*m/g, '')].length

function series(count: number, value: (i: number) => number, start = Date.UTC(2024, 4, 1, 12, 0, 0), stepMs = 1000): ChartPoint[] {
  return Array.from({length: count}, (_, i) => ({at: start + i * stepMs, value: value(i)}))
}

describe('terminal column chart', () => {
  let savedLevel: typeof chalk.level
  beforeEach(() => {
    savedLevel = chalk.level
  })
  afterEach(() => {
    chalk.level = savedLevel
  })

  for (const count of [1, 3, 45, 60, 73, 74, 200, 5000]) {
    it(`fits ${count} buckets in an 80-column terminal, with and without colour`, () => {
      for (const level of [0, 1] as const) {
        chalk.level = level
        const chart = renderColumnChart(
          series(count, (i) => (i % 17 === 5 ? 120_000 : 20_000 + (i % 7) * 1000)),
          {stepMs: 1000, width: 80},
        )
        const lines = chart.split('\n')
        expect(lines.length, chart).to.equal(8 + 3)
        for (const line of lines) expect(visibleWidth(line), `"${line}"`).to.be.at.most(80)
      }
    })
  }

  it('labels the peak on the y axis, the time range on the x axis, and the bucket in the footer', () => {
    chalk.level = 0
    const chart = renderColumnChart(series(30, (i) => (i === 10 ? 12_345 : 1000)), {stepMs: 1000, width: 80})
    const lines = chart.split('\n')
    expect(lines[0]).to.match(/^12\.3k ┤/)
    expect(lines[8]).to.match(/^ {4}0 ┼─+$/)
    expect(lines[9]).to.include('12:00:00').and.include('12:00:29')
    expect(lines[10]).to.include('one column per 1s bucket (UTC)')
  })

  it('draws the peak bucket as the tallest column and an empty bucket as a gap', () => {
    chalk.level = 0
    const chart = renderColumnChart(series(5, (i) => [10, 80, 0, 40, 5][i]), {height: 8, stepMs: 1000, width: 40})
    const lines = chart.split('\n').slice(0, 8)
    // With 5 points, each gets 3 columns; axis "80 ┤" is 4 wide.
    const column = (i: number) => lines.map((line) => line.padEnd(40).slice(4 + i * 3, 5 + i * 3)).join('')
    expect(column(1)).to.equal('████████')
    expect(column(2).trim()).to.equal('')
    expect(column(3)).to.equal('    ████')
    expect(column(4).trim()).to.equal('▄') // 5/80 of 8 rows = 4 eighths
  })

  it('keeps a burst visible when it squeezes many buckets into one column (peak, not mean)', () => {
    chalk.level = 0
    const points = series(1000, (i) => (i === 777 ? 1_000_000 : 10))
    const chart = renderColumnChart(points, {stepMs: 1000, width: 80})
    expect(chart).to.match(/each column: peak of \d+ buckets of 1s/)
    expect(chart.split('\n')[0]).to.match(/^ *1M ┤ *█/)
  })

  it('shows a tiny non-zero value as the smallest block rather than nothing', () => {
    chalk.level = 0
    const chart = renderColumnChart(series(2, (i) => (i === 0 ? 1_000_000 : 1)), {stepMs: 60_000, width: 40})
    const bottom = chart.split('\n')[7]
    expect(bottom).to.include('▁')
    expect(chart).to.include('per 1m bucket')
  })

  it('handles all-zero and empty series', () => {
    chalk.level = 0
    expect(renderColumnChart([], {stepMs: 1000})).to.equal('(no data in range)')
    const flat = renderColumnChart(series(10, () => 0), {stepMs: 1000, width: 80})
    for (const line of flat.split('\n')) expect(visibleWidth(line)).to.be.at.most(80)
    expect(flat).not.to.match(/[▁▂▃▄▅▆▇█]/)
  })

  it('never exceeds a narrow width either', () => {
    chalk.level = 0
    for (const width of [24, 30, 41, 60]) {
      const chart = renderColumnChart(series(300, (i) => i * 1000.5), {stepMs: 1000, width})
      for (const line of chart.split('\n')) expect(visibleWidth(line), `${width}: "${line}"`).to.be.at.most(width)
    }
  })
})
