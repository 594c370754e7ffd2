/**
 * The terminal's view of a run over time: throughput and p99 per interval as
 * compact column charts within 80 columns (the chart code of analyze), then
 * the verdict and ClickHouse's warnings.
 */
import type {Measurements} from '../load/result/types.js'

import {renderColumnChart} from '../format/chart.js'
import {bad, dim, wrap} from './format.js'

export function renderOverTime(m: Measurements, width = 80): string | undefined {
  const timeline = m.timeline
  if (!timeline || timeline.intervals.length < 2) return undefined
  const stepMs = timeline.intervalMs
  const throughput = timeline.intervals.map((i) => ({at: i.at, value: (i.acked * 1000) / stepMs}))
  const p99 = timeline.intervals.map((i) => ({at: i.at, value: i.latency.p99Ms}))
  return [
    '  acknowledged logs/s',
    indent(renderColumnChart(throughput, {height: 5, stepMs, width: width - 2})),
    '  p99 latency (ms) of the batches acknowledged in each interval',
    indent(renderColumnChart(p99, {height: 4, stepMs, width: width - 2})),
  ].join('\n')
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')

/** The verdict in words, wrapped to the terminal's width when one is given (the evidence as an indented list). */
export function renderBottleneck(m: Measurements, width?: number): string | undefined {
  const lines: string[] = []
  if (m.bottleneck) {
    lines.push(wrap(m.bottleneck.summary, width, '  '))
    for (const item of m.bottleneck.evidence) lines.push(...wrap(`- ${item}`, width, '  ', '    ').split('\n').map((line) => dim(line)))
  }

  for (const warning of m.clickhouse?.warnings ?? []) lines.push(wrap(`${bad('warning')}: ${warning}`, width, '  ', '    '))
  return lines.length > 0 ? lines.join('\n') : undefined
}
