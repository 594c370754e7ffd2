/**
 * The terminal report of a capacity search: what was searched and how, the
 * curve (one row per trial), why each failing trial failed, the notes of the
 * search, and the headline.
 */
import type {CapacityResult} from '../capacity/result.js'
import type {TrialRecord} from '../capacity/trial.js'

import {formatDuration, formatPercent, int, msText} from '../format/units.js'
import {bad, dim, fields, good, heading, table} from './format.js'

const verdictText = (trial: TrialRecord) => (trial.verdict === 'pass' ? good('pass') : trial.verdict === 'fail' ? bad('FAIL') : bad('inconclusive'))

/** One row per trial, in the order they ran. */
export function renderCurve(trials: readonly TrialRecord[]): string {
  const rows = trials.map((t) => [
    t.index,
    t.phase ?? '',
    int(t.offeredLogsPerSecond),
    int(t.achievedLogsPerSecond),
    msText(t.latency.p50Ms),
    msText(t.latency.p99Ms),
    msText(t.latency.p999Ms),
    formatPercent(t.errorRate, 2),
    t.lost === null ? dim('—') : t.lost > 0 ? bad(int(t.lost)) : '0',
    verdictText(t),
    t.reasons.join(', '),
  ])
  return table(
    ['#', 'phase', 'offered (logs/s)', 'achieved (logs/s)', 'p50 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'errors (%)', 'lost', 'verdict', 'reasons'],
    rows,
    ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  )
}

export function renderCapacity(result: CapacityResult): string {
  const {config} = result
  const slos = config.slos.map((slo) => (slo.implicit ? `${slo.expression} ${dim('(default)')}` : slo.expression)).join(', ')
  const setup: [string, string][] = [['target', result.stack ? `${config.target} (${result.stack})` : config.target]]
  setup.push(
    ['workers', String(config.workers)],
    ['trials', `${formatDuration(config.trialMs)} judged, after ${formatDuration(config.warmupMs)} of warm-up; intervals of ${formatDuration(config.intervalMs)}`],
    ['batches', `${int(config.batchSize)} logs each, ${config.protocol === 'json' ? `${config.payload} payload` : config.protocol}, at most ${config.maxInFlight} in flight per worker`],
    ['search', `from ${int(config.startLogsPerSecond)} logs/s${config.maxLogsPerSecond === null ? '' : ` up to ${int(config.maxLogsPerSecond)}`}, to within ${formatPercent(config.precision, config.precision < 0.01 ? 1 : 0)}%${config.budgetMs === null ? '' : `, budget ${formatDuration(config.budgetMs)}`}`],
    ['SLOs', slos || dim('none')],
    ['durability', config.verify ? `every trial's stored rows are counted${config.verifyWaitMs > 0 ? ` (waiting up to ${formatDuration(config.verifyWaitMs)})` : ''}` : bad(result.verificationNote ?? 'not verified')],
  )
  const lines = [heading('Capacity search'), fields(setup), '', heading('Curve'), result.trials.length > 0 ? renderCurve(result.trials) : dim('  no trial was judged')]
  const failing = result.trials.filter((t) => t.evidence.length > 0)
  if (failing.length > 0) {
    lines.push('', heading('Why'))
    for (const trial of failing) {
      for (const item of trial.evidence) lines.push(`  ${dim(`trial ${trial.index} (${int(trial.offeredLogsPerSecond)} logs/s)`)} ${item.reason}: ${item.text}`)
    }
  }

  if (result.notes.length > 0) {
    lines.push('', heading('Search'))
    for (const note of result.notes) lines.push(`  ${note}`)
  }

  const ok = result.outcome === 'found' || result.outcome === 'above-max'
  lines.push('', ok ? heading(result.headline) : bad(result.headline))
  return lines.join('\n')
}
