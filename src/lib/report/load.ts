/**
 * The human reports of run, parallel and merge: configuration, results,
 * latency, errors, verification, thresholds and (for several workers) the
 * guide's per-worker table, aggregate figures and assessment.
 */
import type {AggregateResult, Measurements, RunConfig, RunResult} from '../load/result/types.js'
import type {AnalysisResult} from '../analyze/index.js'

import {renderAnalysis} from '../analyze/render.js'
import {errorKind} from '../load/protocols/ack.js'
import {describeProtocol} from '../load/protocols/index.js'
import {bytes, int, msText, percent, seconds} from '../format/units.js'
import {bad, dim, fields, good, heading, table, wrap} from './format.js'
import {renderBottleneck, renderOverTime} from './timeline.js'

type Config = Omit<RunConfig, 'worker'> & {workers?: number; logsPerWorker?: number}

function configLines(config: Config, runId: string, extra: [string, string][] = []): string {
  const entries: [string, string][] = [['run id', runId], ['target', config.target]]
  if (config.workers !== undefined) entries.push(['workers', String(config.workers)])
  if (config.logsPerWorker !== undefined) entries.push(['logs per worker', int(config.logsPerWorker)])
  if (config.logs !== undefined) entries.push([config.workers === undefined ? 'logs' : 'total logs', int(config.logs)])
  if (config.durationMs !== undefined) entries.push(['duration', seconds(config.durationMs)])
  entries.push(['batches', `${int(config.batchSize)} logs each, ${describeProtocol(config.protocol, config.payload)}`])
  if (config.template) entries.push(['template', config.template])
  const perWorker = config.workers === undefined ? '' : ' per worker'
  entries.push([
    'model',
    config.model === 'open'
      ? `open: ${config.stages ? `${config.stages.length} stage${config.stages.length === 1 ? '' : 's'}` : `${int(config.rate ?? 0)} logs/s target`}, at most ${config.maxInFlight} batches in flight${perWorker}`
      : `closed: ${config.concurrency} batches in flight${perWorker}`,
  ])
  if (config.stages) {
    const start = config.startRate ?? config.stages[0]?.rate ?? 0
    entries.push(['stages', `from ${int(start)} logs/s: ${config.stages.map((stage) => `${seconds(stage.durationMs)} → ${int(stage.rate)}`).join(', ')}`])
  }

  if (config.warmupMs) entries.push(['warm-up', `${seconds(config.warmupMs)}, verified but not measured`])
  const apps = config.apps.length > 0 ? config.apps : []
  const totalWeight = apps.reduce((sum, app) => sum + app.weight, 0)
  entries.push(['apps', apps.map((app) => `${app.name} ${percent(app.weight, totalWeight)}`).join(', ')])
  entries.push(['seed', `${config.seed}${config.errorRate > 0 ? `, injected errors ${(config.errorRate * 100).toFixed(1)}%` : ''}`], ...extra)
  return fields(entries)
}

function latencyTable(m: Measurements): string {
  const row = (label: string, l: Measurements['latency']) => [label, msText(l.p50Ms), msText(l.p90Ms), msText(l.p99Ms), msText(l.p999Ms), msText(l.maxMs), msText(l.meanMs)]
  const rows = [row(m.rate ? 'from intended send time' : 'per batch', m.latency)]
  if (m.rate) rows.push(row('service (from actual send)', m.serviceLatency))
  return table(['latency', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'max (ms)', 'mean (ms)'], rows)
}

/** One row per stage, the warm-up first: each from its own histogram; a stage the generator could not keep is marked. */
export function renderStages(m: Pick<Measurements, 'stages'>): string | undefined {
  if (!m.stages || m.stages.length === 0) return undefined
  const rows = m.stages.map((stage) => [
    stage.kind === 'warmup' ? 'warm-up' : String(stage.index + 1),
    `${seconds(stage.startMs)} – ${seconds(stage.endMs)}`,
    stage.fromLogsPerSecond === stage.targetLogsPerSecond ? int(stage.targetLogsPerSecond) : `${int(stage.fromLogsPerSecond)} → ${int(stage.targetLogsPerSecond)}`,
    int(stage.achievedLogsPerSecond),
    `${int(stage.logs.sent)} / ${int(stage.intended)}`,
    msText(stage.latency.p50Ms),
    msText(stage.latency.p99Ms),
    msText(stage.latency.p999Ms),
    stage.errors > 0 ? bad(int(stage.errors)) : '0',
    stage.generatorLimited ? bad('generator-limited') : stage.kind === 'warmup' ? dim('not measured') : good('kept'),
  ])
  const head = ['stage', 'time', 'target (logs/s)', 'achieved (logs/s)', 'sent / due', 'p50 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'errors', 'schedule']
  const lines = [table(head, rows, ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'])]
  if (m.stages.some((stage) => stage.generatorLimited)) {
    lines.push(`  ${bad('generator-limited')}: the sends fell more than 2% behind the schedule there, with no batch waiting for a slot; that stage's figures are about the generator, not the target (add workers)`)
  }

  return lines.join('\n')
}

function errorsBlock(m: Measurements): string {
  const logsByClass = m.errors.logsByClass ?? {}
  const classes = new Set([...Object.keys(m.errors.byClass), ...Object.keys(m.retries.byClass), ...Object.keys(logsByClass)])
  if (classes.size === 0) return `  ${good('none')}: every batch was acknowledged at its first attempt`
  const rows = [...classes]
    .sort()
    .map((cls) => [cls, errorKind(cls), int(logsByClass[cls] ?? 0), int(m.errors.byClass[cls] ?? 0), int(m.retries.byClass[cls] ?? 0), m.errors.samples[cls] ?? ''])
  return table(['class', 'kind', 'failed logs', 'failed batches', 'retried attempts', 'example'], rows, ['left', 'left', 'right', 'right', 'right', 'left'])
}

export function renderVerification(m: Pick<Measurements, 'verification' | 'verificationNote'>, note?: string, width?: number): string {
  const v = m.verification
  if (!v) {
    const text = m.verificationNote ?? note ?? 'not verified: no store to count rows in (run without --target, or pass --clickhouse-url)'
    return wrap(text.startsWith('not verified') && m.verificationNote ? text.replace(/^not verified/, bad('NOT VERIFIED')) : dim(text), width, '  ', '    ')
  }

  const problems = [v.missing > 0 ? `${int(v.missing)} acknowledged logs are MISSING` : '', v.duplicated > 0 ? `${int(v.duplicated)} rows are DUPLICATES` : ''].filter(Boolean)
  const status = problems.length === 0 ? good('every acknowledged log is stored, once') : bad(problems.join('; '))
  const lines = [
    fields([
      ['acknowledged', int(v.acked)],
      ['stored', `${int(v.stored)} rows of run ${v.runId} in ${v.store}`],
      ['missing', v.missing > 0 ? bad(int(v.missing)) : '0'],
      ['duplicated', v.duplicated > 0 ? `${int(v.duplicated)} ${dim('(rows beyond the first of their log)')}` : '0'],
      ['stored, not acknowledged', v.unacknowledged > 0 ? `${int(v.unacknowledged)} ${dim('(of batches that failed, e.g. a timeout after commit)')}` : '0'],
      ['from outside these results', v.outside > 0 ? `${int(v.outside)} ${dim('(other logs with this run id: not counted above)')}` : '0'],
      ...(v.readBackDelayMs === null || v.readBackDelayMs === undefined
        ? []
        : ([['read-back delay', `≤ ${seconds(v.readBackDelayMs)} ${dim(`from the last acknowledgement until every acknowledged log was visible (counted every ${seconds(v.pollMs)})`)}`]] as [string, string][])),
    ], '  ', width),
  ]
  if (!v.exact) lines.push(`  ${dim('more failed batches than could be tracked: missing is a lower bound')}`)
  if (v.waitedMs > 0) lines.push(`  ${dim(`waited ${seconds(v.waitedMs)} for rows to appear`)}`)
  lines.push(`  ${status}`)
  return lines.join('\n')
}

export function renderThresholds(m: Pick<Measurements, 'thresholds'>): string | undefined {
  if (m.thresholds.length === 0) return undefined
  return m.thresholds
    .map((t) => {
      const actual = t.actual === null ? t.reason : `measured ${Number.isInteger(t.actual) ? int(t.actual) : t.actual.toFixed(3).replace(/\.?0+$/, '')}`
      return `  ${t.ok ? good('pass') : bad('FAIL')}  ${t.expression}  ${dim(`(${actual})`)}`
    })
    .join('\n')
}

function resultsLines(m: Measurements, extra: [string, string][] = []): string {
  const entries: [string, string][] = [
    ['duration', seconds(m.durationMs)],
    ['logs', `${int(m.logs.sent)} sent, ${int(m.logs.acked)} acknowledged, ${m.logs.failed > 0 ? bad(int(m.logs.failed)) : '0'} failed`],
    ['throughput', `${int(m.throughput.logsPerSecond)} logs/s, ${int(m.throughput.batchesPerSecond)} batches/s, ${bytes(m.throughput.bytesPerSecond)}/s${m.warmup ? dim(' (after the warm-up)') : ''}`],
  ]
  if (m.rate) {
    const deviation = m.rate.targetLogsPerSecond > 0 ? ((m.rate.achievedLogsPerSecond - m.rate.targetLogsPerSecond) / m.rate.targetLogsPerSecond) * 100 : 0
    entries.push(['rate', `target ${int(m.rate.targetLogsPerSecond)} logs/s, achieved ${int(m.rate.achievedLogsPerSecond)} logs/s (${deviation >= 0 ? '+' : ''}${deviation.toFixed(1)}%)`])
  }

  entries.push(['retries', int(m.retries.count)], ...extra)
  if (m.interrupted) entries.push(['interrupted', bad('yes: partial results')])
  return fields(entries)
}

export interface ReportExtras {
  analysis?: AnalysisResult
  /** Shown instead of the default note when there was no verification. */
  verificationNote?: string
  /** Where the logs went, e.g. "embedded serve on 127.0.0.1:40123 → chDB in .logbench/data". */
  stack?: string
  /** The terminal's width: prose wraps to it (none for a pipe: one line each, as it is). */
  width?: number
}

/** What run and parallel reports both end with: errors, verification, thresholds, the analysis. */
function checkSections(result: Measurements, extras: ReportExtras): string[] {
  const sections: string[] = []
  const stages = renderStages(result)
  if (stages) sections.push('', heading('Stages'), stages)
  const overTime = renderOverTime(result)
  if (overTime) sections.push('', heading('Over Time'), overTime)
  const verdict = renderBottleneck(result, extras.width)
  if (verdict) sections.push('', heading('What Limited the Result'), verdict)
  sections.push('', heading('Errors'), errorsBlock(result), '', heading('Verification'), renderVerification(result, extras.verificationNote, extras.width))
  const thresholds = renderThresholds(result)
  if (thresholds) sections.push('', heading('Thresholds'), thresholds)
  if (extras.analysis) sections.push('', heading('Analysis'), renderAnalysis(extras.analysis, {chart: false, compact: true, width: 80}))
  return sections
}

export function renderRun(result: RunResult, extras: ReportExtras = {}): string {
  const sections = [
    heading(`logbench run ${result.runId}${result.interrupted ? ' (interrupted)' : ''}`),
    '',
    heading('Configuration'),
    configLines(result.config, result.runId, extras.stack ? [['stack', extras.stack]] : []),
    '',
    heading('Results'),
    resultsLines(result, [
      [
        extras.stack ? 'process cost' : 'worker cost',
        `${result.resources.cpuPerLogUs.toFixed(2)} µs CPU a log, peak RSS ${bytes(result.resources.peakRssBytes)}${extras.stack ? dim(' (this process also ran serve and the engine)') : ''}`,
      ],
    ]),
    '',
    latencyTable(result),
    ...checkSections(result, extras),
  ]
  return sections.join('\n')
}

export function renderWorkerTable(result: AggregateResult): string {
  const rows = result.workers.map((w) => [
    String(w.index + 1),
    w.status === 'ok' ? good('ok') : w.status === 'failed' ? bad('failed') : 'interrupted',
    w.durationMs > 0 ? (w.durationMs / 1000).toFixed(2) : '-',
    int(w.logs.acked),
    int(w.logsPerSecond),
    msText(w.p50Ms),
    msText(w.p99Ms),
    int(w.errors),
    int(w.retries),
  ])
  const head = ['worker', 'status', 'duration (s)', 'logs acked', 'throughput (logs/s)', 'p50 (ms)', 'p99 (ms)', 'errors', 'retries']
  const lines = [table(head, rows, ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'])]
  for (const w of result.workers) if (w.error) lines.push(`  ${bad(`worker ${w.index + 1}`)}: ${w.error}`)
  return lines.join('\n')
}

const GRADE: Record<AggregateResult['assessment']['grade'], (text: string) => string> = {
  excellent: (t) => good(`EXCELLENT: ${t}`),
  failed: (t) => bad(`FAILED: ${t}`),
  fair: (t) => `FAIR: ${t}`,
  good: (t) => good(`GOOD: ${t}`),
  poor: (t) => bad(`POOR: ${t}`),
}

export function renderAggregate(result: AggregateResult, extras: ReportExtras = {}): string {
  const title = result.kind === 'merge' ? `logbench merge of ${result.workers.length} results` : `logbench parallel: ${result.config.workers} workers`
  const extra: [string, string][] = []
  if (extras.stack) extra.push(['stack', extras.stack])
  if (result.sources) extra.push(['files', result.sources.join(', ')])
  const sections = [
    heading(`${title}${result.interrupted ? ' (interrupted)' : ''}`),
    '',
    heading('Test Configuration'),
    configLines(result.config, result.runId, extra),
    '',
    heading('Individual Worker Performance'),
    renderWorkerTable(result),
    '',
    heading('Aggregate Results'),
    fields([
      ['total duration', seconds(result.durationMs)],
      ['successful workers', `${result.workersSucceeded}/${result.workers.length}`],
      ['failed workers', result.workersFailed > 0 ? bad(String(result.workersFailed)) : '0'],
      ['total logs', `${int(result.logs.acked)} acknowledged of ${int(result.logs.sent)} sent (${result.logs.failed > 0 ? bad(int(result.logs.failed)) : '0'} failed)`],
      ['aggregate throughput', `${int(result.throughput.logsPerSecond)} logs/s (${bytes(result.throughput.bytesPerSecond)}/s)`],
      ['average duration per worker', seconds(result.averagePerWorker.durationMs)],
      ['average throughput per worker', `${int(result.averagePerWorker.logsPerSecond)} logs/s`],
      ...(result.rate
        ? ([['rate', `target ${int(result.rate.targetLogsPerSecond)} logs/s, achieved ${int(result.rate.achievedLogsPerSecond)} logs/s`]] as [string, string][])
        : []),
      ['retries', int(result.retries.count)],
    ]),
    '',
    latencyTable(result),
    dim('  percentiles of all workers together, from their merged histograms'),
    ...checkSections(result, extras),
  ]
  sections.push('', heading('Performance Assessment'), `  ${GRADE[result.assessment.grade](result.assessment.summary)}`)
  return sections.join('\n')
}
