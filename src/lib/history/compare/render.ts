/** compare for people: a terminal table, or markdown for a CI job summary. */
import chalk from 'chalk'

import type {CompareReport, CompareSide} from './index.js'
import type {MetricComparison, Verdict} from './compare.js'

import {formatInt, formatUtc} from '../../format/units.js'
import {renderTable} from '../../format/table.js'
import {msText} from '../../format/units.js'
import {metricDef} from './metrics.js'

/** A metric's value in its unit, for people. */
export function formatValue(unit: string, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—'
  switch (unit) {
    case 'ms': {
      return msText(value)
    }

    case 'ratio': {
      const percent = value * 100
      return `${percent === 0 ? '0' : percent < 0.01 ? percent.toExponential(1) : percent < 10 ? percent.toFixed(2) : percent.toFixed(1)}%`
    }

    default: {
      return formatInt(value)
    }
  }
}

const signed = (percent: number) => `${percent > 0 ? '+' : percent < 0 ? '−' : ''}${Math.abs(percent) >= 100 ? Math.abs(percent).toFixed(0) : Math.abs(percent).toFixed(1)}%`

export function formatChange(m: Pick<MetricComparison, 'changePercent' | 'base' | 'contender'>): string {
  if (m.changePercent !== null) return signed(m.changePercent)
  if (m.base === 0 && m.contender !== null && m.contender > 0) return 'from 0'
  return '—'
}

export const formatInterval = (ci: [number, number] | null) => (ci ? `${signed(ci[0])} … ${signed(ci[1])}` : '—')

export function formatP(p: number | null): string {
  if (p === null) return '—'
  return p < 0.001 ? '<0.001' : p.toFixed(3)
}

/** `~` for no change, as benchstat prints it. */
export const verdictText = (verdict: Verdict) => (verdict === 'no change' ? '~' : verdict)

function colourVerdict(verdict: Verdict): string {
  const text = verdictText(verdict)
  if (verdict === 'regressed') return chalk.red.bold(text)
  if (verdict === 'improved') return chalk.green.bold(text)
  if (verdict === 'unstable') return chalk.yellow(text)
  if (verdict === 'not measured') return chalk.dim(text)
  return text
}

export function metricLabel(m: Pick<MetricComparison, 'name'>): string {
  const def = metricDef(m.name)
  return def.unit === 'ms' || def.unit === 'logs/s' ? `${def.label} (${def.unit})` : def.label
}

function sideText(side: CompareSide): string {
  return side.runs
    .map((run) => `${run.label} (${run.source === 'file' ? 'file' : 'history'}; ${run.kind}${run.startedAt ? `, started ${formatUtc(run.startedAt)} UTC` : ''})`)
    .join(', ')
}

function samplesText(report: CompareReport): string {
  const side = (s: CompareSide, name: string) =>
    s.samples.unit === 'runs'
      ? `${s.samples.n} run${s.samples.n === 1 ? '' : 's'} in the ${name}`
      : `${s.samples.n} steady interval${s.samples.n === 1 ? '' : 's'} in the ${name} (worth ${s.samples.effective} independent)`
  const warmup = report.base.warmupIntervals + report.contender.warmupIntervals
  return `${side(report.base, 'base')}, ${side(report.contender, 'contender')}${warmup > 0 ? `; ${warmup} warm-up interval${warmup === 1 ? '' : 's'} left out` : ''}`
}

const ruleText = (practical: number) =>
  `a change counts when p < 0.05 and it is at least ${practical}% (and beyond the metric's own spread); unstable: the metric's own spread is wider than ${practical}%`

function regressionsText(report: CompareReport): string[] {
  return report.regressions.map((r) => `${r.metric} ${r.changePercent === null ? 'rose from 0' : signed(r.changePercent)} breaks --fail-on ${r.gate}`)
}

export function renderComparison(report: CompareReport): string {
  const lines: string[] = [`${chalk.bold('Base')}       ${sideText(report.base)}`, `${chalk.bold('Contender')}  ${sideText(report.contender)}`, '']
  if (report.differences.length > 0) {
    lines.push(chalk.yellow.bold('The runs were set up differently (compared all the same):'))
    const width = Math.max(...report.differences.map((d) => d.field.length))
    for (const d of report.differences) lines.push(`  ${d.field.padEnd(width)}  ${d.base} → ${d.contender}`)
    lines.push('')
  }

  lines.push(
    renderTable({
      align: ['left', 'right', 'right', 'right', 'left', 'right', 'left'],
      head: ['metric', 'base', 'contender', 'change', '95% CI of the change', 'p', 'verdict'],
      rows: report.metrics.map((m) => [metricLabel(m), formatValue(m.unit, m.base), formatValue(m.unit, m.contender), formatChange(m), formatInterval(m.ci), formatP(m.pValue), colourVerdict(m.verdict)]),
    }),
    '',
    chalk.dim(`Samples: ${samplesText(report)}.`),
    chalk.dim(`Rule: ${ruleText(report.practicalPercent)}.`),
  )
  for (const m of report.metrics) if (m.note && m.verdict !== 'no change') lines.push(chalk.dim(`${metricDef(m.name).label}: ${m.note}.`))
  for (const note of report.notes) lines.push(chalk.yellow(`Note: ${note}.`))
  for (const line of regressionsText(report)) lines.push(chalk.red.bold(`FAIL: ${line}`))
  for (const gate of report.unjudged) lines.push(chalk.yellow(`--fail-on ${gate}: not judged, the metric was not measured on both sides`))
  return lines.join('\n')
}

const md = (text: string) => text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll('`', "'").replaceAll('<', '&lt;').replaceAll('>', '&gt;')

const markdownVerdict = (verdict: Verdict) => (verdict === 'regressed' ? '**regressed** :red_circle:' : verdict === 'improved' ? '**improved** :green_circle:' : verdict === 'unstable' ? 'unstable :warning:' : verdictText(verdict))

/** GitHub-flavoured markdown, for $GITHUB_STEP_SUMMARY or a pull-request comment. */
export function renderMarkdown(report: CompareReport): string {
  const names = (side: CompareSide) => side.runs.map((r) => `\`${md(r.label)}\``).join(', ')
  const lines = [`### logbench compare: ${names(report.base)} → ${names(report.contender)}`, '']
  if (report.regressions.length > 0) {
    lines.push(`**Failed:** ${regressionsText(report).map((l) => md(l)).join('; ')}`, '')
  }

  if (report.differences.length > 0) {
    lines.push('> [!WARNING]', '> The runs were set up differently (compared all the same):')
    for (const d of report.differences) lines.push(`> - ${md(d.field)}: ${md(d.base)} → ${md(d.contender)}`)
    lines.push('')
  }

  lines.push('| metric | base | contender | change | 95% CI | p | verdict |', '|---|--:|--:|--:|:-:|--:|---|')
  for (const m of report.metrics) {
    lines.push(`| ${md(metricLabel(m))} | ${formatValue(m.unit, m.base)} | ${formatValue(m.unit, m.contender)} | ${formatChange(m)} | ${formatInterval(m.ci)} | ${formatP(m.pValue)} | ${markdownVerdict(m.verdict)} |`)
  }

  lines.push('', `<sub>${md(samplesText(report))}. ${md(ruleText(report.practicalPercent))}.</sub>`)
  const notes = [...report.notes, ...report.unjudged.map((g) => `--fail-on ${g}: not judged, the metric was not measured on both sides`)]
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${md(n)}`))
  return lines.join('\n') + '\n'
}
