import type {Level, ProfileSummary, StoreKind} from '../store/index.js'
import type {FiltersJson} from './filters.js'

/** The reports, in the order the overview shows them. */
export const REPORT_NAMES = ['total', 'apps', 'levels', 'rates', 'runs', 'lag', 'size', 'partitions'] as const
export type ReportName = (typeof REPORT_NAMES)[number]

export const REPORT_DESCRIPTIONS: Record<ReportName, string> = {
  apps: 'logs per app, with their share',
  levels: 'logs per level, with their share',
  lag: 'ingest delay (ingest time − event time): min, p50, p90, p99, max',
  partitions: 'active parts, rows and bytes per partition, newest first',
  rates: 'logs per second in buckets of ingest time (else event time): mean, peak, chart',
  runs: 'one row per run id: logs, first and last stored, rate',
  size: 'parts, rows, on-disk and (un)compressed bytes, ratio, bytes/row',
  total: 'logs stored, first and last stored, distinct apps and runs',
}

export interface TotalReport {
  logs: number
  firstCreatedAt: string | null
  lastCreatedAt: string | null
  /** Distinct apps and run ids; null when the table has no such role. */
  apps: number | null
  runs: number | null
}

export interface ShareRow {
  logs: number
  /** Fraction of the filtered logs, 0..1. */
  share: number
}

export interface AppsReport {
  /** Logs matching the filters (the denominator of share). */
  total: number
  rows: (ShareRow & {app: string})[]
  /** True when --limit cut rows off. */
  truncated: boolean
}

export interface LevelsReport {
  total: number
  rows: (ShareRow & {level: Level})[]
}

export interface RateBucket {
  /** Start of the bucket (ISO-8601). */
  start: string
  logs: number
  /** logs / bucket length in seconds: the real rate in that bucket. */
  logsPerSecond: number
  /** The bucket is cut by the first or last log: its rate covers less than the whole bucket. */
  partial: boolean
}

export interface RatesReport {
  bucketMs: number
  /** "auto" when chosen from the span of the data, "flag" when given. */
  bucketSource: 'auto' | 'flag'
  /** Precision of created_at: 1 (DateTime64(3)) or 1000 (DateTime). */
  resolutionMs: number
  logs: number
  firstCreatedAt: string | null
  lastCreatedAt: string | null
  /** From the first to the last log, inclusive of the last one's resolution. */
  activeMs: number
  /** logs / active period. */
  meanPerSecond: number | null
  /** Highest bucket rate. */
  peakPerSecond: number | null
  peakAt: string | null
  /** Every bucket from the first log's to the last log's, empty ones included. */
  buckets: RateBucket[]
}

export interface RunRow {
  runId: string
  logs: number
  firstCreatedAt: string
  lastCreatedAt: string
  durationMs: number
  logsPerSecond: number
}

export interface RunsReport {
  rows: RunRow[]
  truncated: boolean
}

export interface LagReport {
  logs: number
  resolutionMs: number
  minMs: number | null
  p50Ms: number | null
  p90Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  meanMs: number | null
  /** Rows whose timestamp is after created_at (client clock ahead of the server). */
  negative: number
}

export interface ColumnSize {
  column: string
  type: string
  compressedBytes: number | null
  uncompressedBytes: number | null
  bytesOnDisk: number | null
  compressionRatio: number | null
  /** Share of the compressed bytes of all columns, 0..1. */
  share: number | null
}

export interface SizeReport {
  parts: number
  rows: number
  bytesOnDisk: number
  compressedBytes: number
  uncompressedBytes: number
  /** uncompressed / compressed. */
  compressionRatio: number | null
  /** bytes on disk / rows. */
  bytesPerRow: number | null
  /** With --columns. */
  columns?: ColumnSize[]
  /** Why per-column sizes are missing or partial (compact parts), when they are. */
  columnsNote?: string
}

export interface PartitionRow {
  partition: string
  parts: number
  rows: number
  bytesOnDisk: number
  compressedBytes: number
  uncompressedBytes: number
}

export interface PartitionsReport {
  rows: PartitionRow[]
  truncated: boolean
}

export interface ReportData {
  total: TotalReport
  apps: AppsReport
  levels: LevelsReport
  rates: RatesReport
  runs: RunsReport
  lag: LagReport
  size: SizeReport
  partitions: PartitionsReport
}

export interface StoreSummary {
  kind: StoreKind
  location: string
  version: string
  database: string
  table: string
}

/** A report the overview left out: the table has no column for a role it needs. */
export interface SkippedReport {
  report: ReportName
  reason: string
  /** The flag that would supply the role. */
  flag: string
}

/** What `analyze --json` prints and what serve's report endpoint answers. */
export interface AnalysisResult {
  store: StoreSummary
  /** The table's columns by role. */
  profile?: ProfileSummary
  generatedAt: string
  filters: FiltersJson
  reports: Partial<ReportData>
  /** Reports of the overview that this table cannot give, and why. */
  skipped?: SkippedReport[]
}
