import chalk from 'chalk'

import {describeStore, type ProfileSummary} from '../store/index.js'
import type {AnalysisResult, ReportData, ReportName} from './types.js'

import {renderColumnChart} from '../format/chart.js'
import {type CsvValue, toCsv} from '../format/csv.js'
import {renderKeyValue, renderTable} from '../format/table.js'
import {
  byteScale,
  displayText,
  formatBytesIn,
  formatDuration,
  formatFixed,
  formatInt,
  formatInterval,
  formatPercent,
  formatUtc,
} from '../format/units.js'
import {describeFilters, type Filters, hasFilters} from './filters.js'
import {REPORT_DESCRIPTIONS, REPORT_NAMES} from './types.js'

export interface RenderOptions {
  /** Terminal width for the chart (80 when not a terminal). */
  width: number
  /** Draw the rates chart. */
  chart: boolean
  /** Overview: rates without its per-bucket table. */
  compact: boolean
}

const right = (count: number) => Array.from({length: count}, () => 'right' as const)

function levelColor(level: string): string {
  if (level === 'error' || level === 'fatal') return chalk.red(level)
  if (level === 'warn') return chalk.yellow(level)
  if (level === 'debug') return chalk.dim(level)
  return level
}

function more(truncated: boolean, what: string): string {
  return truncated ? `\n${chalk.dim(`more ${what} not shown: raise --limit`)}` : ''
}

function bytesPair(label: string, bytes: number): [string, string] {
  const scale = byteScale([bytes])
  return [`${label} (${scale.unit})`, formatBytesIn(scale, bytes)]
}

type Renderers = {[K in ReportName]: (data: ReportData[K], options: RenderOptions) => string}

const RENDERERS: Renderers = {
  apps: (data) =>
    renderTable({
      align: ['left', 'right', 'right'],
      head: ['app', 'logs', 'share (%)'],
      rows: data.rows.map((row) => [displayText(row.app), formatInt(row.logs), formatPercent(row.share)]),
    }) + more(data.truncated, 'apps'),

  lag(data) {
    const ms = (value: number | null) => (value === null ? '—' : formatInt(value))
    const table = renderKeyValue([
      ['logs', formatInt(data.logs)],
      ['min (ms)', ms(data.minMs)],
      ['p50 (ms)', ms(data.p50Ms)],
      ['p90 (ms)', ms(data.p90Ms)],
      ['p99 (ms)', ms(data.p99Ms)],
      ['max (ms)', ms(data.maxMs)],
      ['mean (ms)', data.meanMs === null ? '—' : formatFixed(data.meanMs, 1)],
      ['event time after ingest time (logs)', data.negative > 0 ? chalk.yellow(formatInt(data.negative)) : '0'],
    ])
    return data.resolutionMs >= 1000
      ? `${table}\n${chalk.dim(`times are stored to the second on this ClickHouse version: delays are whole seconds`)}`
      : table
  },

  levels: (data) =>
    renderTable({
      align: ['left', 'right', 'right'],
      head: ['level', 'logs', 'share (%)'],
      rows: data.rows.map((row) => [levelColor(row.level), formatInt(row.logs), formatPercent(row.share)]),
    }),

  partitions(data) {
    const scale = byteScale(data.rows.flatMap((row) => [row.bytesOnDisk, row.uncompressedBytes]))
    return (
      renderTable({
        align: ['left', ...right(5)],
        head: ['partition', 'parts', 'rows', `on disk (${scale.unit})`, `compressed (${scale.unit})`, `uncompressed (${scale.unit})`],
        rows: data.rows.map((row) => [
          displayText(row.partition),
          formatInt(row.parts),
          formatInt(row.rows),
          formatBytesIn(scale, row.bytesOnDisk),
          formatBytesIn(scale, row.compressedBytes),
          formatBytesIn(scale, row.uncompressedBytes),
        ]),
      }) + more(data.truncated, 'partitions')
    )
  },

  rates(data, options) {
    if (data.logs === 0) return chalk.dim('no logs in range')
    const rate = (value: number | null) => (value === null ? '—' : formatFixed(value, value >= 100 ? 0 : 1))
    const parts = [
      renderKeyValue([
        ['bucket', `${formatInterval(data.bucketMs)}${data.bucketSource === 'auto' ? ' (auto)' : ''}`],
        ['logs', formatInt(data.logs)],
        ['first stored (UTC)', formatUtc(data.firstCreatedAt)],
        ['last stored (UTC)', formatUtc(data.lastCreatedAt)],
        ['active period', formatDuration(data.activeMs)],
        ['mean (logs/s)', rate(data.meanPerSecond)],
        ['peak (logs/s)', `${chalk.bold(rate(data.peakPerSecond))} at ${formatUtc(data.peakAt).slice(11)}`],
      ]),
    ]
    if (options.chart) {
      parts.push(
        `${chalk.bold('logs/s')}\n` +
          renderColumnChart(
            data.buckets.map((bucket) => ({at: Date.parse(bucket.start), value: bucket.logsPerSecond})),
            {stepMs: data.bucketMs, width: options.width},
          ),
      )
    }

    if (!options.compact) {
      const partial = data.buckets.some((bucket) => bucket.partial)
      parts.push(
        renderTable({
          align: ['left', 'right', 'right'],
          head: ['bucket start (UTC)', 'logs', 'logs/s'],
          rows: data.buckets.map((bucket) => [
            formatUtc(bucket.start) + (bucket.partial ? ' *' : ''),
            formatInt(bucket.logs),
            bucket.logsPerSecond === data.peakPerSecond ? chalk.bold(rate(bucket.logsPerSecond)) : rate(bucket.logsPerSecond),
          ]),
        }) + (partial ? `\n${chalk.dim('* the first or last log falls inside this bucket: its rate covers part of it')}` : ''),
      )
    }

    return parts.join('\n')
  },

  runs: (data) =>
    renderTable({
      align: ['left', ...right(5)],
      head: ['run id', 'logs', 'first stored (UTC)', 'last stored (UTC)', 'duration (s)', 'logs/s'],
      rows: data.rows.map((row) => [
        row.runId === '' ? chalk.dim('(none)') : displayText(row.runId, 40),
        formatInt(row.logs),
        formatUtc(row.firstCreatedAt),
        formatUtc(row.lastCreatedAt),
        formatFixed(row.durationMs / 1000, row.durationMs % 1000 === 0 ? 0 : 3),
        formatFixed(row.logsPerSecond, 0),
      ]),
    }) + more(data.truncated, 'runs'),

  size(data) {
    const parts = [
      renderKeyValue([
        ['parts', formatInt(data.parts)],
        ['rows', formatInt(data.rows)],
        bytesPair('on disk', data.bytesOnDisk),
        bytesPair('compressed', data.compressedBytes),
        bytesPair('uncompressed', data.uncompressedBytes),
        ['compression ratio (×)', data.compressionRatio === null ? '—' : formatFixed(data.compressionRatio, 2)],
        ['bytes per row (B)', data.bytesPerRow === null ? '—' : formatFixed(data.bytesPerRow, 2)],
      ]),
    ]
    if (data.columns) {
      const scale = byteScale(data.columns.flatMap((column) => [column.compressedBytes, column.uncompressedBytes]))
      parts.push(
        renderTable({
          align: ['left', 'left', ...right(4)],
          head: ['column', 'type', `compressed (${scale.unit})`, `uncompressed (${scale.unit})`, 'ratio (×)', 'share (%)'],
          rows: data.columns.map((column) => [
            column.column,
            displayText(column.type, 40),
            formatBytesIn(scale, column.compressedBytes),
            formatBytesIn(scale, column.uncompressedBytes),
            column.compressionRatio === null ? '—' : formatFixed(column.compressionRatio, 2),
            formatPercent(column.share),
          ]),
        }),
      )
      if (data.columnsNote) parts.push(chalk.dim(data.columnsNote))
    }

    return parts.join('\n')
  },

  total: (data) =>
    renderKeyValue([
      ['logs', formatInt(data.logs)],
      ['first stored (UTC)', formatUtc(data.firstCreatedAt)],
      ['last stored (UTC)', formatUtc(data.lastCreatedAt)],
      ['apps', data.apps === null ? 'n/a (no app column)' : formatInt(data.apps)],
      ['runs', data.runs === null ? 'n/a (no run id column)' : formatInt(data.runs)],
    ]),
}

function filtersFromJson(result: AnalysisResult): Filters {
  const {filters} = result
  return {
    apps: filters.apps,
    before: filters.before === null ? undefined : Date.parse(filters.before),
    levels: filters.levels,
    runIds: filters.runIds,
    since: filters.since === null ? undefined : Date.parse(filters.since),
  }
}

/** "app=ServiceName · run_id=LogAttributes.logbench.run_id · …", the mapped roles only. */
export function describeRoles(profile: ProfileSummary): string {
  const mapped = Object.entries(profile.roles).filter(([, where]) => where !== null)
  return `${profile.shape} shape: ` + (mapped.length > 0 ? mapped.map(([role, where]) => `${role}=${where}`).join(' · ') : 'no role mapped')
}

/** The human form of an analysis: a header naming the table and store, then one titled section per report. */
export function renderAnalysis(result: AnalysisResult, options: RenderOptions): string {
  const {store} = result
  const where = describeStore(store)
  const filters = filtersFromJson(result)
  const lines = [
    `${chalk.bold(`${store.database}.${store.table}`)} on ${where} · ${formatUtc(result.generatedAt).slice(0, 19)} UTC`,
    `filters: ${describeFilters(filters)}`,
  ]
  if (result.profile && result.profile.shape !== 'logbench') lines.push(`columns: ${describeRoles(result.profile)}`)
  for (const name of REPORT_NAMES) {
    const data = result.reports[name]
    if (data === undefined) continue
    const render = RENDERERS[name] as (data: unknown, options: RenderOptions) => string
    const scope = (name === 'size' || name === 'partitions') && hasFilters(filters) ? ' (whole table; filters do not apply)' : ''
    lines.push('', `${chalk.bold.underline(name)} ${chalk.dim(`· ${REPORT_DESCRIPTIONS[name]}${scope}`)}`, render(data, options))
  }

  for (const skipped of result.skipped ?? []) lines.push('', `${chalk.bold.underline(skipped.report)} ${chalk.yellow('skipped')}: ${skipped.reason}`)

  return lines.join('\n')
}

/** One report as CSV, in base units (rows, bytes, ms, ISO-8601 UTC). */
export function reportCsv(result: AnalysisResult, name: ReportName): string {
  const data = result.reports[name]
  if (data === undefined) throw new Error(`report ${name} is not in the result`)
  const table = CSV[name](data as never)
  return toCsv(table.head, table.rows)
}

type CsvTable = {head: string[]; rows: CsvValue[][]}
const CSV: {[K in ReportName]: (data: ReportData[K]) => CsvTable} = {
  apps: (data) => ({head: ['app_id', 'logs', 'share'], rows: data.rows.map((row) => [row.app, row.logs, row.share])}),
  lag: (data) => ({
    head: ['logs', 'min_ms', 'p50_ms', 'p90_ms', 'p99_ms', 'max_ms', 'mean_ms', 'negative', 'resolution_ms'],
    rows: [[data.logs, data.minMs, data.p50Ms, data.p90Ms, data.p99Ms, data.maxMs, data.meanMs, data.negative, data.resolutionMs]],
  }),
  levels: (data) => ({head: ['level', 'logs', 'share'], rows: data.rows.map((row) => [row.level, row.logs, row.share])}),
  partitions: (data) => ({
    head: ['partition', 'parts', 'rows', 'bytes_on_disk', 'compressed_bytes', 'uncompressed_bytes'],
    rows: data.rows.map((row) => [row.partition, row.parts, row.rows, row.bytesOnDisk, row.compressedBytes, row.uncompressedBytes]),
  }),
  rates: (data) => ({
    head: ['bucket_start', 'bucket_ms', 'logs', 'logs_per_second', 'partial'],
    rows: data.buckets.map((bucket) => [bucket.start, data.bucketMs, bucket.logs, bucket.logsPerSecond, bucket.partial]),
  }),
  runs: (data) => ({
    head: ['run_id', 'logs', 'first_created_at', 'last_created_at', 'duration_ms', 'logs_per_second'],
    rows: data.rows.map((row) => [row.runId, row.logs, row.firstCreatedAt, row.lastCreatedAt, row.durationMs, row.logsPerSecond]),
  }),
  size: (data) =>
    data.columns
      ? {
          head: ['column', 'type', 'compressed_bytes', 'uncompressed_bytes', 'bytes_on_disk', 'compression_ratio', 'share'],
          rows: data.columns.map((c) => [c.column, c.type, c.compressedBytes, c.uncompressedBytes, c.bytesOnDisk, c.compressionRatio, c.share]),
        }
      : {
          head: ['parts', 'rows', 'bytes_on_disk', 'compressed_bytes', 'uncompressed_bytes', 'compression_ratio', 'bytes_per_row'],
          rows: [[data.parts, data.rows, data.bytesOnDisk, data.compressedBytes, data.uncompressedBytes, data.compressionRatio, data.bytesPerRow]],
        },
  total: (data) => ({
    head: ['logs', 'first_created_at', 'last_created_at', 'apps', 'runs'],
    rows: [[data.logs, data.firstCreatedAt, data.lastCreatedAt, data.apps, data.runs]],
  }),
}
