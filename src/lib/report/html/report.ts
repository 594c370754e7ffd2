/**
 * The HTML report of a run, parallel or merge result: one self-contained page
 * (inline CSS and SVG, no script, nothing fetched), drawn only from the result
 * document, so `--report` and `logbench report result.json` give the same bytes.
 */
import type {ClickHouseView} from '../../load/measure/clickhouse-view.js'
import type {Timeline} from '../../load/measure/timeline.js'
import type {AggregateResult, Measurements, RunResult} from '../../load/result/types.js'

import {int} from '../../format/units.js'
import {bottleneckOf} from '../../load/result/diagnose.js'
import {compactNumber, escapeHtml as esc, lineChart, type Series} from './svg-chart.js'
import {htmlPage} from './style.js'

type Result = RunResult | AggregateResult

const ms = (n: number) => (n >= 100 ? int(n) : n.toFixed(n >= 10 ? 1 : 2))
const mib = (bytes: number) => bytes / (1024 * 1024)

function bytesText(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${n} B`
}

function table(head: string[], rows: (string | number)[][], numeric: boolean[] = []): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('')
  const tr = rows.map((row) => `<tr>${row.map((cell, i) => `<td${numeric[i] ? ' class="num"' : ''}>${esc(String(cell))}</td>`).join('')}</tr>`).join('')
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table></div>`
}

function definitions(entries: [string, string][]): string {
  return `<dl>${entries.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`
}

function runsOf(result: Result): RunResult[] {
  return result.kind === 'run' ? [result] : result.workers.map((w) => w.result).filter((r): r is RunResult => r !== undefined)
}

/** The origin of the time axis: the first interval of any timeline, or the start of the run. */
function originOf(result: Result): number {
  const starts = [result.timeline?.intervals[0]?.at, ...runsOf(result).map((r) => r.timeline?.intervals[0]?.at), result.clickhouse?.samples[0]?.at]
  const known = starts.filter((n): n is number => typeof n === 'number')
  return known.length > 0 ? Math.min(...known) : Date.parse(result.startedAt)
}

function perSecondSeries(timeline: Timeline, t0: number, pick: (i: Timeline['intervals'][number]) => number): [number, number][] {
  return timeline.intervals.map((i) => [(i.at - t0) / 1000, (pick(i) * 1000) / timeline.intervalMs])
}

/** The last moment anything of the run was measured, epoch ms. */
function endOf(result: Result): number {
  const ends = [Date.parse(result.endedAt), ...[result.timeline, ...runsOf(result).map((r) => r.timeline)].map((t) => (t?.intervals.length ? t.intervals.at(-1)!.at + t.intervalMs : undefined)), result.clickhouse?.samples.at(-1)?.at]
  return Math.max(...ends.filter((n): n is number => typeof n === 'number' && Number.isFinite(n)))
}

/** The rate the schedule asked for over time, and a mark at each stage boundary (shaped runs). */
function schedule(result: Result, offset: number): {target?: Series; markers: {at: number; label: string}[]} {
  const stages = result.stages ?? []
  if (stages.length === 0) return {markers: []}
  const at = (ms: number) => offset + ms / 1000
  const points: [number, number][] = stages.flatMap((stage) => [
    [at(stage.startMs), stage.fromLogsPerSecond],
    [at(stage.endMs), stage.targetLogsPerSecond],
  ])
  // A 0 s stage (a jump) has no span of its own: the next stage's mark stands for it.
  const markers = stages.filter((stage) => stage.endMs > stage.startMs).map((stage) => ({at: at(stage.startMs), label: stage.kind === 'warmup' ? 'warm-up' : `stage ${stage.index + 1}`}))
  return {markers, target: {dashed: true, name: 'target rate', points}}
}

function charts(result: Result): string {
  const t0 = originOf(result)
  const timeline = result.timeline
  const x = (at: number) => (at - t0) / 1000
  // Every chart of the run on the run's own clock: the same axis, from its start to its end.
  const xRange: [number, number] = [0, Math.max(1, x(endOf(result)))]
  const shape = schedule(result, x(Date.parse(result.startedAt)))
  const chart = (options: Parameters<typeof lineChart>[0]) => lineChart({xRange, ...options})
  const out: string[] = []
  const per = timeline ? `per ${timeline.intervalMs >= 1000 ? `${timeline.intervalMs / 1000} s` : `${timeline.intervalMs} ms`} interval` : ''
  const view = result.clickhouse ?? null
  // Throughput.
  const throughput: Series[] = []
  if (timeline) {
    throughput.push({name: 'sent', points: perSecondSeries(timeline, t0, (i) => i.sent)}, {name: 'acked', points: perSecondSeries(timeline, t0, (i) => i.acked)})
  }

  if (view?.stored) {
    const stored = view.stored
    throughput.push({name: 'stored', points: stored.intervals.map((s) => [x(s.at), (s.rows * 1000) / stored.intervalMs])})
  }

  if (shape.target) throughput.push(shape.target)
  const throughputNote = [view?.stored ? 'stored: rows of the run in the table, by their ingest time' : '', shape.target ? 'target rate: what the stages asked for (the warm-up is charted, not measured)' : ''].filter(Boolean).join('; ')
  out.push(chart({id: 'throughput', boundaries: shape.markers, note: throughputNote || undefined, series: throughput, title: 'Throughput over time', unit: 'logs/s'}))
  // Latency.
  const latency: Series[] = timeline
    ? (['p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const).map((key) => ({
        name: key.replace('Ms', ''),
        points: timeline.intervals.map((i) => [x(i.at), i.latency.count > 0 ? i.latency[key] : null] as [number, number | null]),
      }))
    : []
  out.push(
    chart({
      id: 'latency',
      boundaries: shape.markers,
      note: result.config.model === 'open' ? `batches acknowledged in each interval, from their intended send time (${per})` : `batches acknowledged in each interval (${per})`,
      series: latency,
      title: 'Latency percentiles over time',
      unit: 'ms',
    }),
  )
  // Errors and retries.
  const problems: Series[] = []
  if (timeline) {
    const classes = (key: 'errors' | 'retries') => [...new Set(timeline.intervals.flatMap((i) => Object.keys(i[key])))].sort()
    for (const cls of classes('errors')) problems.push({name: `failed batches: ${cls}`, points: timeline.intervals.map((i) => [x(i.at), i.errors[cls] ?? 0])})
    for (const cls of classes('retries')) problems.push({name: `retries: ${cls}`, points: timeline.intervals.map((i) => [x(i.at), i.retries[cls] ?? 0])})
    if (problems.length === 0) problems.push({name: 'failed batches', points: timeline.intervals.map((i) => [x(i.at), 0])})
  }

  // ClickHouse's side of the same trouble: INSERTs it delayed or refused for too many parts.
  if (view?.samples.some((s) => s.delayedInserts > 0)) problems.push({name: 'ClickHouse: INSERTs delayed', points: view.samples.map((s) => [x(s.at), s.delayedInserts])})
  if (view?.samples.some((s) => s.rejectedInserts > 0)) problems.push({name: 'ClickHouse: INSERTs refused', points: view.samples.map((s) => [x(s.at), s.rejectedInserts])})

  out.push(chart({id: 'errors', note: `counts ${per}`, series: problems, title: 'Errors and retries over time', unit: 'per interval'}))
  // One line per worker.
  const runs = runsOf(result)
  if (result.kind !== 'run') {
    const workers: Series[] = runs.filter((r) => r.timeline).map((r) => ({name: `worker ${r.config.worker.index + 1}`, points: perSecondSeries(r.timeline!, t0, (i) => i.acked)}))
    out.push(chart({id: 'workers', series: workers, title: 'Acknowledged per worker', unit: 'logs/s'}))
  }

  out.push(...clickhouseCharts(view, x, chart))
  // Resources.
  const cpu: Series[] = runs
    .filter((r) => r.timeline)
    .map((r) => ({name: result.kind === 'run' ? (r.resources.sharedWithServe ? 'logbench process' : 'worker') : `worker ${r.config.worker.index + 1}`, points: r.timeline!.intervals.map((i) => [x(i.at), (i.cpuMs / r.timeline!.intervalMs) * 100])}))
  const rss: Series[] = runs
    .filter((r) => r.timeline)
    .map((r, n) => ({name: cpu[n].name, points: r.timeline!.intervals.map((i) => [x(i.at), i.rssBytes > 0 ? mib(i.rssBytes) : null])}))
  const serve = result.serveResources
  const shared = result.kind === 'run' && result.resources.sharedWithServe
  if (serve && serve.samples.length > 0 && !shared) {
    cpu.push({name: 'serve', points: serve.samples.map((s) => [x(s.at), (s.cpuMs / serve.intervalMs) * 100])})
    rss.push({name: 'serve', points: serve.samples.map((s) => [x(s.at), mib(s.rssBytes)])})
  }

  out.push(chart({format: (v) => `${compactNumber(v)}%`, id: 'cpu', note: '100% is one CPU core', series: cpu, title: 'CPU over time', unit: '% of a core'}), chart({id: 'rss', series: rss, title: 'Resident memory over time', unit: 'MiB'}))
  return out.join('\n')
}

function clickhouseCharts(view: ClickHouseView | null, x: (at: number) => number, chart: typeof lineChart): string[] {
  if (!view) return [`<section class="chart-missing" data-chart="clickhouse"><h3>ClickHouse</h3><p class="empty">Not sampled: logbench could not reach the store during this run (pass --clickhouse-url).</p></section>`]
  const refs: {name: string; value: number}[] = []
  if (view.limits.partsToDelayInsert) refs.push({name: 'parts_to_delay_insert', value: view.limits.partsToDelayInsert})
  const peak = Math.max(0, ...view.samples.map((s) => s.maxPartsPerPartition))
  if (view.limits.partsToThrowInsert && peak * 2 >= view.limits.partsToThrowInsert) refs.push({name: 'parts_to_throw_insert', value: view.limits.partsToThrowInsert})
  // A limit far above the curve would flatten it: show it only when the parts come within reach.
  const shown = refs.filter((r) => peak * 4 >= r.value)
  const hidden = refs.filter((r) => !shown.includes(r))
  return [
    chart({
      id: 'clickhouse-parts',
      note: `${view.table}${hidden.length > 0 ? `; ${hidden.map((r) => `${r.name} = ${r.value}`).join(', ')}, far above` : ''} (limits from the ${view.limits.source === 'table' ? "table's SETTINGS" : 'server settings'})`,
      references: shown,
      series: [
        {name: 'active parts (max per partition)', points: view.samples.map((s) => [x(s.at), s.maxPartsPerPartition])},
        {name: 'merges running', points: view.samples.map((s) => [x(s.at), s.merges])},
      ],
      title: 'ClickHouse parts and merges',
      unit: 'count',
    }),
    chart({
      id: 'clickhouse-memory',
      series: [{name: 'memory tracked', points: view.samples.map((s) => [x(s.at), mib(s.memoryBytes)])}],
      title: 'ClickHouse memory',
      unit: 'MiB',
    }),
    chart({
      id: 'clickhouse-inserts',
      series: [
        {name: 'rows inserted', points: view.samples.map((s) => [x(s.at), s.insertedRows])},
      ],
      title: 'ClickHouse rows inserted, all tables',
      unit: 'rows per interval',
    }),
  ]
}

function configSection(result: Result): string {
  const c = result.config
  const entries: [string, string][] = [
    ['run id', result.runId],
    ['target', c.target],
    ['started', `${result.startedAt} (UTC)`],
    ['ended', `${result.endedAt} (UTC)`],
  ]
  if ('workers' in c) entries.push(['workers', String(c.workers)])
  if (c.logs !== undefined) entries.push(['logs', int(c.logs)])
  if (c.durationMs !== undefined) entries.push(['duration asked', `${(c.durationMs / 1000).toFixed(1)} s`])
  entries.push(
    ['batches', `${int(c.batchSize)} logs each, ${c.payload} payload`],
    ['model', c.model === 'open' ? `open: ${int(c.rate ?? 0)} logs/s, at most ${c.maxInFlight} batches in flight` : `closed: ${c.concurrency} batches in flight per worker`],
    ['retries, timeout', `${c.retries} retries, ${(c.timeoutMs / 1000).toFixed(1)} s timeout`],
    ['seed', String(c.seed)],
  )
  if (result.timeline) entries.push(['timeline interval', `${result.timeline.intervalMs} ms`])
  if (result.kind !== 'run' && result.sources) entries.push(['files', result.sources.join(', ')])
  return definitions(entries)
}

function summaryCards(m: Measurements): string {
  const cards: [string, string][] = [
    ['throughput', `${int(m.throughput.logsPerSecond)} logs/s`],
    ['acknowledged', `${int(m.logs.acked)} of ${int(m.logs.sent)}`],
    ['p50 / p99', `${ms(m.latency.p50Ms)} / ${ms(m.latency.p99Ms)} ms`],
    ['failed batches', int(m.errors.total)],
    ['retries', int(m.retries.count)],
    ['duration', `${(m.durationMs / 1000).toFixed(2)} s`],
  ]
  return `<div class="cards">${cards.map(([k, v]) => `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`).join('')}</div>`
}

function latencyTable(m: Measurements): string {
  const row = (label: string, l: Measurements['latency']) => [label, ms(l.p50Ms), ms(l.p90Ms), ms(l.p99Ms), ms(l.p999Ms), ms(l.maxMs), ms(l.meanMs)]
  const rows = [row(m.rate ? 'from intended send time' : 'per batch', m.latency)]
  if (m.rate) rows.push(row('service (from actual send)', m.serviceLatency))
  return table(['latency', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'max (ms)', 'mean (ms)'], rows, [false, true, true, true, true, true, true])
}

function workersSection(result: AggregateResult): string {
  const rows = result.workers.map((w) => [w.index + 1, w.status, (w.durationMs / 1000).toFixed(2), int(w.logs.acked), int(w.logsPerSecond), ms(w.p50Ms), ms(w.p99Ms), int(w.errors), int(w.retries), w.error ?? ''])
  return table(['worker', 'status', 'duration (s)', 'logs acked', 'logs/s', 'p50 (ms)', 'p99 (ms)', 'errors', 'retries', 'note'], rows, [true, false, true, true, true, true, true, true, true, false])
}

/** One row per stage, the warm-up first, each from its own histogram. */
function stagesTable(m: Measurements): string {
  const rows = (m.stages ?? []).map((stage) => [
    stage.kind === 'warmup' ? 'warm-up' : `stage ${stage.index + 1}`,
    `${(stage.startMs / 1000).toFixed(1)}–${(stage.endMs / 1000).toFixed(1)} s`,
    stage.fromLogsPerSecond === stage.targetLogsPerSecond ? int(stage.targetLogsPerSecond) : `${int(stage.fromLogsPerSecond)} → ${int(stage.targetLogsPerSecond)}`,
    int(stage.achievedLogsPerSecond),
    `${int(stage.logs.sent)} / ${int(stage.intended)}`,
    stage.latency.p50Ms,
    stage.latency.p99Ms,
    stage.latency.p999Ms,
    stage.errors,
    stage.generatorLimited ? 'generator-limited' : stage.kind === 'warmup' ? 'not measured' : 'kept',
  ])
  return table(['stage', 'time', 'target (logs/s)', 'achieved (logs/s)', 'sent / due', 'p50 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'errors', 'schedule'], rows, [false, false, true, true, true, true, true, true, true, false])
}

function verificationSection(m: Measurements): string {
  const v = m.verification
  if (!v) return '<p class="muted">Not verified: no store to count the rows in (run without --target, or pass --clickhouse-url).</p>'
  const status = v.ok ? '<p class="ok">Every acknowledged log is stored.</p>' : `<p class="bad">${esc(int(v.missing))} acknowledged logs are missing.</p>`
  return (
    definitions([
      ['acknowledged', int(v.acked)],
      ['stored', `${int(v.stored)} rows in ${v.store}`],
      ['missing', int(v.missing)],
      ['duplicated', int(v.duplicated)],
      ['stored but unacknowledged', int(v.unacknowledged)],
      ['other rows of the run id', int(v.outside)],
    ]) + status
  )
}

function errorsSection(m: Measurements): string {
  const classes = [...new Set([...Object.keys(m.errors.byClass), ...Object.keys(m.retries.byClass)])].sort()
  if (classes.length === 0) return '<p class="ok">None: every batch was acknowledged at its first attempt.</p>'
  return table(
    ['class', 'failed batches', 'retried attempts', 'example'],
    classes.map((cls) => [cls, int(m.errors.byClass[cls] ?? 0), int(m.retries.byClass[cls] ?? 0), m.errors.samples[cls] ?? '']),
    [false, true, true, false],
  )
}

export function renderHtmlReport(result: Result): string {
  const verdict = result.bottleneck ?? bottleneckOf(result)
  const title =
    result.kind === 'run' ? `logbench run ${result.runId}` : result.kind === 'parallel' ? `logbench parallel: ${result.config.workers} workers, run ${result.runId}` : `logbench merge of ${result.workers.length} results, run ${result.runId}`
  const warnings = result.clickhouse?.warnings ?? []
  const sections: string[] = [
    `<header><h1>${esc(title)}</h1>${result.interrupted ? '<p class="bad">Interrupted before the end: partial results.</p>' : ''}</header>`,
    summaryCards(result),
    `<section class="verdict" data-verdict="${esc(verdict.kind)}"><h2>What limited the result</h2><p>${esc(verdict.summary)}</p>${verdict.evidence.length > 0 ? `<ul>${verdict.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}${result.kind === 'run' ? '' : `<p class="muted">Assessment: ${esc(result.assessment.grade)}: ${esc(result.assessment.summary)}</p>`}</section>`,
  ]
  if (warnings.length > 0) sections.push(`<section class="warnings" data-warnings="${warnings.length}"><h2>Warnings</h2><ul>${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`)
  sections.push(`<section><h2>Over time</h2>${charts(result)}</section>`)
  sections.push(`<section><h2>Configuration</h2>${configSection(result)}</section>`)
  if (result.kind !== 'run') sections.push(`<section><h2>Workers</h2>${workersSection(result)}</section>`)
  sections.push(`<section><h2>Latency</h2>${latencyTable(result)}</section>`)
  if (result.stages?.length) sections.push(`<section data-section="stages"><h2>Stages</h2>${stagesTable(result)}</section>`)
  sections.push(`<section><h2>Errors</h2>${errorsSection(result)}</section>`)
  sections.push(`<section><h2>Verification</h2>${verificationSection(result)}</section>`)
  if (result.thresholds.length > 0) {
    sections.push(`<section><h2>Thresholds</h2>${table(['check', 'result', 'measured'], result.thresholds.map((t) => [t.expression, t.ok ? 'pass' : 'FAIL', t.actual === null ? t.reason ?? '' : String(t.actual)]))}</section>`)
  }

  const errors = result.clickhouse?.errors ?? []
  if (errors.length > 0) sections.push(`<section><h2>Notes</h2><ul>${errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></section>`)
  return htmlPage(esc(title), sections.join('\n'))
}
