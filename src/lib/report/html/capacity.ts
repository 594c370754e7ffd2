/**
 * The HTML report of a capacity search: one self-contained page (inline CSS
 * and SVG, no script, nothing fetched) with the throughput–latency curve (p50
 * and p99 against the offered rate, the maximum marked), achieved against
 * offered, the curve as a table, and each trial over time (warm-up marked).
 */
import type {CapacityResult} from '../../capacity/result.js'
import type {TrialRecord} from '../../capacity/trial.js'

import {writeFile} from 'node:fs/promises'

import {usageError} from '../../errors.js'
import {formatCompact, formatDuration, formatFixed, formatInt, formatPercent, msText} from '../../format/units.js'
import {escapeHtml as esc, lineChart, type Series} from './svg-chart.js'
import {htmlPage} from './style.js'

/** The trials' own sections: one <details> each. */
const TRIAL_STYLE = `
details.trial { border-top: 1px solid var(--line); padding: 6px 0; }
details.trial summary { cursor: pointer; font-weight: 600; }
@media print { details.trial { break-inside: auto; } }
`

const rateAxis = (v: number) => formatCompact(v)

function table(head: string[], rows: string[][], numeric: boolean[]): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('')
  const tr = rows.map((row) => `<tr>${row.map((cell, i) => `<td${numeric[i] ? ' class="num"' : ''}>${cell}</td>`).join('')}</tr>`).join('')
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table></div>`
}

function definitions(entries: [string, string][]): string {
  return `<dl>${entries.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`
}

const verdictCell = (t: TrialRecord) => `<span class="${t.verdict === 'pass' ? 'ok' : 'bad'}">${esc(t.verdict)}</span>`

/** p50 and p99 of each judged trial against its offered rate, the maximum marked. */
function curveCharts(result: CapacityResult): string {
  const judged = [...result.trials].sort((a, b) => a.offeredLogsPerSecond - b.offeredLogsPerSecond || a.index - b.index)
  const max = result.maxSustainable.logsPerSecond
  const markers = max === null ? [] : [{name: result.outcome === 'found' ? 'max sustainable' : 'highest passing rate', x: max}]
  const point = (pick: (t: TrialRecord) => number) => judged.map((t) => [t.offeredLogsPerSecond, t.window.batches > 0 ? pick(t) : null] as [number, number | null])
  const latency: Series[] = [
    {dots: true, name: 'p50', points: point((t) => t.latency.p50Ms)},
    {dots: true, name: 'p99', points: point((t) => t.latency.p99Ms)},
  ]
  const throughput: Series[] = [
    {dots: true, name: 'achieved', points: judged.map((t) => [t.offeredLogsPerSecond, t.achievedLogsPerSecond])},
    {dashed: true, name: 'offered (ideal)', points: judged.map((t) => [t.offeredLogsPerSecond, t.offeredLogsPerSecond])},
  ]
  return [
    lineChart({
      id: 'capacity-latency',
      markers,
      note: 'each trial\'s window (its warm-up left out), latency from the intended send time; a failing trial\'s latency shows the queue it built',
      series: latency,
      title: 'Latency against offered rate',
      unit: 'ms',
      xFormat: rateAxis,
    }),
    lineChart({
      id: 'capacity-throughput',
      markers,
      note: 'acknowledged logs per second in each trial\'s window, against the rate offered',
      series: throughput,
      title: 'Achieved against offered rate',
      unit: 'logs/s',
      xFormat: rateAxis,
    }),
  ].join('\n')
}

function curveTable(trials: readonly TrialRecord[]): string {
  const rows = trials.map((t) => [
    String(t.index),
    esc(t.phase ?? ''),
    formatInt(t.offeredLogsPerSecond),
    formatInt(t.achievedLogsPerSecond),
    esc(msText(t.latency.p50Ms)),
    esc(msText(t.latency.p99Ms)),
    esc(msText(t.latency.p999Ms)),
    formatPercent(t.errorRate, 2),
    t.lost === null ? '—' : formatInt(t.lost),
    verdictCell(t),
    esc(t.reasons.join(', ')),
  ])
  return table(
    ['#', 'phase', 'offered (logs/s)', 'achieved (logs/s)', 'p50 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'errors (%)', 'lost', 'verdict', 'reasons'],
    rows,
    [true, false, true, true, true, true, true, true, true, false, false],
  )
}

/** One trial over time: throughput and latency per interval, the end of its warm-up marked. */
function trialSection(result: CapacityResult, trial: TrialRecord, open: boolean): string {
  const timeline = trial.timeline
  const t0 = timeline?.intervals[0]?.at ?? Date.parse(trial.startedAt)
  const x = (at: number) => (at - t0) / 1000
  const warmupEnd = (Date.parse(trial.startedAt) + result.config.warmupMs - t0) / 1000
  const markers = result.config.warmupMs > 0 ? [{name: 'end of warm-up', x: warmupEnd}] : []
  const perSecond = (n: number) => (timeline ? (n * 1000) / timeline.intervalMs : 0)
  const charts = timeline
    ? [
        lineChart({
          id: `trial-${trial.index}-throughput`,
          markers,
          series: [
            {name: 'sent', points: timeline.intervals.map((i) => [x(i.at), perSecond(i.sent)])},
            {name: 'acked', points: timeline.intervals.map((i) => [x(i.at), perSecond(i.acked)])},
          ],
          title: `Trial ${trial.index}: throughput over time`,
          unit: 'logs/s',
        }),
        lineChart({
          id: `trial-${trial.index}-latency`,
          markers,
          series: (['p50Ms', 'p99Ms'] as const).map((key) => ({
            name: key.replace('Ms', ''),
            points: timeline.intervals.map((i) => [x(i.at), i.latency.count > 0 ? i.latency[key] : null] as [number, number | null]),
          })),
          title: `Trial ${trial.index}: latency over time`,
          unit: 'ms',
        }),
      ].join('\n')
    : '<p class="empty">No timeline was recorded for this trial.</p>'
  const evidence = trial.evidence.length > 0 ? `<ul>${trial.evidence.map((e) => `<li><strong>${esc(e.reason)}</strong>: ${esc(e.text)}</li>`).join('')}</ul>` : '<p class="ok">Every SLO held, and nothing climbed.</p>'
  const facts = definitions([
    ['run id', trial.runId],
    ['window', `${formatDuration(trial.window.durationMs)} from ${trial.window.startedAt} (UTC), ${trial.window.intervals} intervals`],
    ['logs in the window', `${formatInt(trial.window.logs.sent)} sent, ${formatInt(trial.window.logs.acked)} acknowledged, ${formatInt(trial.window.logs.failed)} failed`],
    ['verification', trial.lost === null ? (trial.verificationNote ?? 'not verified') : `${formatInt(trial.lost)} lost, ${formatInt(trial.duplicated ?? 0)} duplicated`],
  ])
  const summary = `Trial ${trial.index} (${trial.phase ?? ''}): ${formatInt(trial.offeredLogsPerSecond)} logs/s, ${trial.verdict}${trial.reasons.length > 0 ? ` (${trial.reasons.join(', ')})` : ''}`
  return `<details class="trial" data-trial="${trial.index}"${open ? ' open' : ''}><summary>${esc(summary)}</summary>${evidence}${facts}${charts}</details>`
}

function configSection(result: CapacityResult): string {
  const c = result.config
  const entries: [string, string][] = [['target', result.stack ? `${c.target} (${result.stack})` : c.target]]
  entries.push(
    ['started', `${result.startedAt} (UTC)`],
    ['took', formatDuration(result.durationMs)],
    ['workers', String(c.workers)],
    ['trials', `${formatDuration(c.trialMs)} judged after ${formatDuration(c.warmupMs)} of warm-up, intervals of ${formatDuration(c.intervalMs)}`],
    ['batches', `${formatInt(c.batchSize)} logs each, ${c.protocol === 'json' ? `${c.payload} payload` : c.protocol}, at most ${c.maxInFlight} in flight per worker, ${c.retries} retries, ${formatDuration(c.timeoutMs)} timeout`],
    ['search', `from ${formatInt(c.startLogsPerSecond)} logs/s${c.maxLogsPerSecond === null ? '' : ` to ${formatInt(c.maxLogsPerSecond)}`}, precision ${formatFixed(c.precision * 100, c.precision < 0.01 ? 1 : 0)}%${c.budgetMs === null ? '' : `, budget ${formatDuration(c.budgetMs)}`}`],
    ['SLOs', c.slos.map((s) => `${s.expression}${s.implicit ? ' (default)' : ''}`).join(', ') || 'none'],
    ['durability', c.verify ? `verified${c.verifyWaitMs > 0 ? `, waiting up to ${formatDuration(c.verifyWaitMs)}` : ''}` : (result.verificationNote ?? 'not verified')],
  )
  return definitions(entries)
}

export function renderCapacityHtml(result: CapacityResult): string {
  const max = result.maxSustainable.logsPerSecond
  const ok = result.outcome === 'found' || result.outcome === 'above-max'
  const title = `logbench capacity: ${max === null ? 'no sustainable rate found' : `max sustainable ${formatInt(max)} logs/s`}`
  const cards: [string, string][] = [
    ['max sustainable', max === null ? '—' : `${formatInt(max)} logs/s`],
    ['lowest failing', result.maxSustainable.lowestFailingLogsPerSecond === null ? '—' : `${formatInt(result.maxSustainable.lowestFailingLogsPerSecond)} logs/s`],
    ['limited by', result.maxSustainable.limitedBy.join(', ') || '—'],
    ['trials', String(result.trials.length)],
    ['took', formatDuration(result.durationMs)],
  ]
  // The trials on either side of the maximum are open; the others can be opened.
  const around = new Set([max, result.maxSustainable.lowestFailingLogsPerSecond])
  const sections = [
    `<header><h1>${esc(title)}</h1>${result.interrupted ? '<p class="bad">Interrupted before the end: the curve so far.</p>' : ''}</header>`,
    `<section class="verdict" data-outcome="${esc(result.outcome)}"><h2>Result</h2><p class="${ok ? '' : 'bad'}">${esc(result.headline)}</p>${result.notes.length > 0 ? `<ul>${result.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}</section>`,
    `<div class="cards">${cards.map(([k, v]) => `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`).join('')}</div>`,
    `<section><h2>The curve</h2>${curveCharts(result)}${curveTable(result.trials)}</section>`,
    `<section><h2>Each trial</h2>${result.trials.map((t) => trialSection(result, t, around.has(t.offeredLogsPerSecond))).join('\n')}</section>`,
    `<section><h2>Configuration</h2>${configSection(result)}</section>`,
  ]
  return htmlPage(esc(title), sections.join('\n'), TRIAL_STYLE)
}

export async function writeCapacityReport(file: string, result: CapacityResult): Promise<void> {
  try {
    await writeFile(file, renderCapacityHtml(result))
  } catch (error) {
    throw usageError(`cannot write the report to ${file}: ${(error as Error).message}`, 'give a writable path, e.g. --report capacity.html')
  }
}
