import chalk from 'chalk'

import {formatClock, formatCompact, formatInterval} from './units.js'

export interface ChartPoint {
  /** Start of the bucket, epoch ms. */
  at: number
  value: number
}

export interface ColumnChartOptions {
  /** Terminal columns available; every line of the chart fits in them. Default 80. */
  width?: number
  /** Plot rows (each in eighths of a cell with the block characters). Default 8. */
  height?: number
  /** Width of one bucket in ms, to label the time axis. */
  stepMs: number
}

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']
const MIN_WIDTH = 24

/**
 * A vertical column chart of a time series, drawn with block characters, that
 * fits in `width` columns whatever the number of points: when there are more
 * points than columns, each column shows the peak of the consecutive points it
 * covers (so a burst is never averaged away), and the footer says so.
 */
export function renderColumnChart(points: readonly ChartPoint[], options: ColumnChartOptions): string {
  const width = Math.max(MIN_WIDTH, Math.floor(options.width ?? 80))
  const height = Math.max(2, Math.floor(options.height ?? 8))
  if (points.length === 0) return '(no data in range)'

  const peak = Math.max(...points.map((point) => point.value))
  const midRow = Math.floor(height / 2)
  const labels = [formatCompact(peak), formatCompact((peak * (height - midRow)) / height), '0']
  const labelWidth = Math.max(...labels.map((label) => label.length))
  const axisWidth = labelWidth + 2
  const plotWidth = width - axisWidth - 1

  const group = Math.ceil(points.length / plotWidth)
  const columns: {at: number; value: number}[] = []
  for (let i = 0; i < points.length; i += group) {
    const slice = points.slice(i, i + group)
    columns.push({at: slice[0].at, value: Math.max(...slice.map((point) => point.value))})
  }

  const colWidth = group === 1 ? Math.min(3, Math.max(1, Math.floor(plotWidth / columns.length))) : 1
  const eighths = columns.map(({value}) => {
    if (peak <= 0 || value <= 0) return 0
    return Math.max(1, Math.round((value / peak) * height * 8))
  })

  const lines: string[] = []
  for (let row = 0; row < height; row++) {
    const floor = (height - 1 - row) * 8
    let cells = ''
    for (const [i, total] of eighths.entries()) {
      const level = Math.min(8, Math.max(0, total - floor))
      const glyph = level === 0 ? ' ' : BLOCKS[level - 1]
      const text = glyph.repeat(colWidth)
      cells += level > 0 && columns[i].value === peak ? chalk.yellow(text) : level > 0 ? chalk.cyan(text) : text
    }

    const label = row === 0 ? labels[0] : row === midRow ? labels[1] : ''
    lines.push(`${label.padStart(labelWidth)} ${label ? '┤' : '│'}${cells}`.trimEnd())
  }

  const plotted = columns.length * colWidth
  lines.push(`${'0'.padStart(labelWidth)} ┼${'─'.repeat(plotted)}`)

  const first = formatClock(columns[0].at)
  const last = formatClock(points.at(-1)!.at)
  let axis = ' '.repeat(axisWidth) + first
  if (columns.length > 1 && plotted >= first.length + last.length + 1) {
    axis += last.padStart(plotted - first.length)
  }

  lines.push(axis)
  const step = formatInterval(options.stepMs)
  lines.push(
    ' '.repeat(axisWidth) +
      (group === 1 ? `one column per ${step} bucket (UTC)` : `each column: peak of ${group} buckets of ${step} (UTC)`),
  )
  return lines.map((line) => fitLine(line, width)).join('\n')
}

/** Never exceed the width, even with a label longer than planned (ANSI codes do not count). */
function fitLine(line: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const visible = line.replaceAll(/\u001B\[[0-9;]*m/g, '')
  if ([...visible].length <= width) return line
  return [...visible].slice(0, width).join('')
}
