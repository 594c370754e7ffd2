/**
 * The HTML page of a comparison: the two runs' throughput and p99 over time
 * on a relative clock (seconds since each run's first interval), overlaid,
 * with the comparison table, the configuration differences and the notes.
 * Self-contained like the run report: inline CSS and SVG, no script.
 */
import type {CompareReport, LoadedRun} from '../../history/compare/index.js'

import {isCapacity} from '../../history/document.js'
import {formatChange, formatInterval, formatP, formatValue, metricLabel, verdictText} from '../../history/compare/render.js'
import {escapeHtml as esc, lineChart, type Series} from './svg-chart.js'
import {htmlPage} from './style.js'

const COMPARE_STYLE = `
.verdict-regressed { color: var(--bad); font-weight: 600; }
.verdict-improved { color: var(--ok); font-weight: 600; }
.verdict-unstable { color: #8a5a00; }
.sides dt { font-weight: 600; }
`

function seriesOf(runs: readonly LoadedRun[], side: 'base' | 'contender', pick: 'throughput' | 'p99'): Series[] {
  const out: Series[] = []
  for (const [n, run] of runs.entries()) {
    if (isCapacity(run.result) || !run.result.timeline || run.result.timeline.intervals.length === 0) continue
    const {intervalMs, intervals} = run.result.timeline
    const t0 = intervals[0].at
    const name = `${side}${runs.length > 1 ? ` ${n + 1}` : ''}: ${run.label}`
    const points: [number, number | null][] = intervals.map((i) => [(i.at - t0) / 1000, pick === 'throughput' ? (i.acked * 1000) / intervalMs : i.latency.count > 0 ? i.latency.p99Ms : null])
    out.push({dashed: side === 'contender', name, points})
  }

  return out
}

function metricsTable(report: CompareReport): string {
  const head = ['metric', 'base', 'contender', 'change', '95% CI of the change', 'p', 'verdict']
  const numeric = [false, true, true, true, false, true, false]
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('')
  const rows = report.metrics
    .map((m) => {
      const cells = [metricLabel(m), formatValue(m.unit, m.base), formatValue(m.unit, m.contender), formatChange(m), formatInterval(m.ci), formatP(m.pValue)]
      const tds = cells.map((cell, i) => `<td${numeric[i] ? ' class="num"' : ''}>${esc(cell)}</td>`).join('')
      const verdict = `<td class="verdict-${m.verdict.replace(' ', '-')}">${esc(verdictText(m.verdict))}</td>`
      return `<tr data-metric="${esc(m.name)}" data-verdict="${esc(m.verdict)}">${tds}${verdict}</tr>`
    })
    .join('')
  return `<div class="scroll"><table id="comparison"><thead><tr>${th}</tr></thead><tbody>${rows}</tbody></table></div>`
}

function sideList(report: CompareReport): string {
  const side = (name: string, s: CompareReport['base']) =>
    `<dt>${esc(name)}</dt><dd>${esc(s.runs.map((r) => `${r.label} (${r.source}; ${r.kind}${r.startedAt ? `, started ${r.startedAt}` : ''})`).join(', '))}</dd>`
  return `<dl class="sides">${side('base', report.base)}${side('contender', report.contender)}</dl>`
}

function samplesText(report: CompareReport): string {
  const side = (s: CompareReport['base'], name: string) =>
    s.samples.unit === 'runs' ? `${s.samples.n} runs in the ${name}` : `${s.samples.n} steady intervals in the ${name} (worth ${s.samples.effective} independent)`
  return `${side(report.base, 'base')}, ${side(report.contender, 'contender')}. A change counts when p < 0.05 and it is at least ${report.practicalPercent}% and beyond the metric's own spread; unstable: the spread is wider than ${report.practicalPercent}%.`
}

export function renderCompareHtml(report: CompareReport, base: readonly LoadedRun[], contender: readonly LoadedRun[]): string {
  const title = `logbench compare: ${base.map((r) => r.label).join(', ')} → ${contender.map((r) => r.label).join(', ')}`
  const sections: string[] = [`<header><h1>${esc(title)}</h1>${sideList(report)}</header>`]
  if (report.regressions.length > 0) {
    sections.push(`<p class="bad" data-regressions="${report.regressions.length}">Failed: ${esc(report.regressions.map((r) => `${r.metric} ${formatChange(r)} breaks --fail-on ${r.gate}`).join('; '))}</p>`)
  }

  if (report.differences.length > 0) {
    sections.push(
      `<section class="warnings" data-differences="${report.differences.length}"><h2>The runs were set up differently</h2><ul>${report.differences.map((d) => `<li>${esc(d.field)}: ${esc(d.base)} → ${esc(d.contender)}</li>`).join('')}</ul><p class="muted">Compared all the same: the difference may be what is tested.</p></section>`,
    )
  }

  sections.push(`<section><h2>Comparison</h2>${metricsTable(report)}<p class="note">${esc(samplesText(report))}</p>${report.notes.length > 0 ? `<ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}</section>`)
  const note = 'seconds since each run\'s first interval; the base solid, the contender dashed'
  sections.push(
    `<section><h2>Over time</h2>${lineChart({
      id: 'compare-throughput',
      note,
      series: [...seriesOf(base, 'base', 'throughput'), ...seriesOf(contender, 'contender', 'throughput')],
      title: 'Acknowledged throughput',
      unit: 'logs/s',
    })}${lineChart({
      id: 'compare-p99',
      note: `${note}; the p99 of the batches acknowledged in each interval`,
      series: [...seriesOf(base, 'base', 'p99'), ...seriesOf(contender, 'contender', 'p99')],
      title: 'p99 latency',
      unit: 'ms',
    })}</section>`,
  )
  return htmlPage(esc(title), sections.join('\n'), COMPARE_STYLE)
}
