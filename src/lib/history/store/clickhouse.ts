/**
 * The history in ClickHouse, for a team that shares one (and charts it in
 * Grafana): a `logbench` database with
 *
 *   runs       one row a record: the summary figures as columns, the record
 *              whole as JSON text (`document`), its summary as JSON (`summary`)
 *   intervals  one row per timeline interval of a run: logs, throughput,
 *              latency percentiles and the interval's HDR histogram
 *   baselines  one row each time a baseline is set or removed; the latest wins
 *
 * created idempotently, with types every version from 18.16 on has (String,
 * DateTime('UTC'), Nullable, Array(String); no LowCardinality, no DateTime64).
 * It runs on a server or on the embedded engine, through the storage interface.
 */
import type {Store} from '../../store/index.js'
import type {Baseline, HistoryStore, ListOptions} from './types.js'

import {environmentError, LogbenchError, messageOf} from '../../errors.js'
import {ClickHouseError, type QueryParams} from '../../store/index.js'
import {ALREADY_EXISTS_CODES} from '../../store/schema.js'
import {isCapacity} from '../document.js'
import {candidateId, newestFirst, type RecordSummary, type RunRecord, summaryOf} from '../record/record.js'
import {assertBaselineName, matchSummaries} from './types.js'

export const HISTORY_DATABASE = 'logbench'
export const HISTORY_TABLES = ['runs', 'intervals', 'baselines'] as const

const DB = '`logbench`'

export const HISTORY_DDL = [
  `CREATE DATABASE IF NOT EXISTS ${DB}`,
  `CREATE TABLE IF NOT EXISTS ${DB}.\`runs\`
(
  id String,
  run_id String,
  kind String,
  command String,
  recorded_at DateTime('UTC'),
  recorded_at_ms UInt64,
  started_at DateTime('UTC'),
  logbench_version String,
  target String,
  protocol String,
  batch_size Nullable(Float64),
  workers Nullable(Float64),
  clickhouse_version String,
  table_under_test String,
  host_name String,
  host_cpu String,
  host_cores UInt16,
  git_commit String,
  git_dirty UInt8,
  tags Array(String),
  exit_code Nullable(Int16),
  throughput Nullable(Float64),
  p50_ms Nullable(Float64),
  p90_ms Nullable(Float64),
  p99_ms Nullable(Float64),
  p999_ms Nullable(Float64),
  error_rate Nullable(Float64),
  lost Nullable(Float64),
  read_back_delay_ms Nullable(Float64),
  verification String,
  max_sustainable Nullable(Float64),
  summary String,
  document String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(recorded_at)
ORDER BY (recorded_at, id)`,
  `CREATE TABLE IF NOT EXISTS ${DB}.\`intervals\`
(
  id String,
  run_id String,
  at DateTime('UTC'),
  at_ms UInt64,
  interval_ms UInt32,
  sent UInt64,
  acked UInt64,
  failed UInt64,
  throughput Float64,
  batches UInt64,
  p50_ms Float64,
  p90_ms Float64,
  p99_ms Float64,
  max_ms Float64,
  histogram String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (id, at)`,
  `CREATE TABLE IF NOT EXISTS ${DB}.\`baselines\`
(
  name String,
  id String,
  set_at DateTime('UTC'),
  set_at_ms UInt64,
  deleted UInt8
)
ENGINE = MergeTree
ORDER BY (name, set_at_ms)`,
]

const seconds = (ms: number) => Math.floor(ms / 1000)
const dateTime = (ms: number) => new Date(seconds(ms) * 1000).toISOString().slice(0, 19).replace('T', ' ')

function runRow(record: RunRecord): Record<string, unknown> {
  const recordedMs = Date.parse(record.recordedAt)
  const startedMs = record.startedAt ? Date.parse(record.startedAt) : recordedMs
  const s = record.summary
  return {
    batch_size: record.config.batchSize,
    clickhouse_version: record.clickhouse?.version ?? '',
    command: record.command,
    document: JSON.stringify(record),
    error_rate: s.errorRate,
    exit_code: record.exitCode,
    git_commit: record.git?.commit ?? '',
    git_dirty: record.git?.dirty ? 1 : 0,
    host_cores: record.host?.cores ?? 0,
    host_cpu: record.host?.cpuModel ?? '',
    host_name: record.host?.name ?? '',
    id: record.id,
    kind: record.kind,
    logbench_version: record.logbenchVersion,
    lost: s.lost,
    max_sustainable: s.maxSustainableLogsPerSecond,
    p50_ms: s.p50Ms,
    p90_ms: s.p90Ms,
    p999_ms: s.p999Ms,
    p99_ms: s.p99Ms,
    protocol: record.config.protocol ?? '',
    read_back_delay_ms: s.readBackDelayMs,
    recorded_at: dateTime(recordedMs),
    recorded_at_ms: recordedMs,
    run_id: record.runId,
    started_at: dateTime(Number.isFinite(startedMs) ? startedMs : recordedMs),
    summary: JSON.stringify(summaryOf(record)),
    table_under_test: record.clickhouse?.table ?? '',
    tags: Object.entries(record.tags).map(([k, v]) => `${k}=${v}`),
    target: record.config.target ?? '',
    throughput: s.throughputLogsPerSecond,
    verification: s.verification,
    workers: record.config.workers,
  }
}

function intervalRows(record: RunRecord): Record<string, unknown>[] {
  const doc = record.result
  if (isCapacity(doc) || !doc.timeline || !Array.isArray(doc.timeline.intervals)) return []
  const {intervalMs} = doc.timeline
  return doc.timeline.intervals.map((i) => ({
    acked: i.acked,
    at: dateTime(i.at),
    at_ms: i.at,
    batches: i.latency?.count ?? 0,
    failed: i.failed,
    histogram: i.histogram ?? '',
    id: record.id,
    interval_ms: intervalMs,
    max_ms: i.latency?.maxMs ?? 0,
    p50_ms: i.latency?.p50Ms ?? 0,
    p90_ms: i.latency?.p90Ms ?? 0,
    p99_ms: i.latency?.p99Ms ?? 0,
    run_id: record.runId,
    sent: i.sent,
    throughput: (i.acked * 1000) / intervalMs,
  }))
}

const MAX_CANDIDATES = 1000
/** Rows a single INSERT of intervals carries. */
const INTERVAL_CHUNK = 1000

export class ClickHouseHistory implements HistoryStore {
  /** The history in `store`'s server or engine, its tables created when missing. */
  static async open(store: Store): Promise<ClickHouseHistory> {
    const history = new ClickHouseHistory(store)
    await history.ensureSchema()
    return history
  }

  readonly location: string

  private constructor(private readonly store: Store) {
    const where = store.info.kind === 'server' ? `ClickHouse at ${store.info.location}` : `the embedded engine in ${store.info.location}`
    this.location = `${where}, database ${HISTORY_DATABASE}`
  }

  async add(record: RunRecord): Promise<string> {
    return this.guard('write to', async () => {
      const taken = new Set(
        (await this.store.query<{id: string}>(`SELECT id FROM ${DB}.\`runs\` WHERE substring(id, 1, {n:UInt32}) = {base:String}`, {base: record.id, n: record.id.length})).map((row) => row.id),
      )
      let id: string | undefined
      for (let n = 1; n <= MAX_CANDIDATES && id === undefined; n++) if (!taken.has(candidateId(record.id, n))) id = candidateId(record.id, n)
      if (id === undefined) throw new Error(`${MAX_CANDIDATES} records already use the id ${record.id}`)
      const final = {...record, id}
      // The intervals first: a run is listed only once all of it is there.
      const intervals = intervalRows(final)
      for (let start = 0; start < intervals.length; start += INTERVAL_CHUNK) await this.insert('intervals', intervals.slice(start, start + INTERVAL_CHUNK))
      await this.insert('runs', [runRow(final)])
      return id
    })
  }

  async list(options: ListOptions = {}): Promise<RecordSummary[]> {
    return this.guard('read', async () => {
      const params: QueryParams = {}
      const where = Object.entries(options.tags ?? {}).map(([k, v], i) => {
        params[`tag${i}`] = `${k}=${v}`
        return `has(tags, {tag${i}:String})`
      })
      const limit = options.limit === undefined ? '' : `\nLIMIT ${Math.max(0, Math.floor(options.limit))}`
      const rows = await this.store.query<{summary: string}>(
        `SELECT summary FROM ${DB}.\`runs\`${where.length > 0 ? `\nWHERE ${where.join(' AND ')}` : ''}\nORDER BY recorded_at_ms DESC, id DESC${limit}`,
        params,
      )
      return rows.map((row) => JSON.parse(row.summary) as RecordSummary)
    })
  }

  async get(id: string): Promise<RunRecord | undefined> {
    return this.guard('read', async () => {
      const [row] = await this.store.query<{document: string}>(`SELECT document FROM ${DB}.\`runs\` WHERE id = {id:String} ORDER BY recorded_at_ms DESC LIMIT 1`, {id})
      return row ? (JSON.parse(row.document) as RunRecord) : undefined
    })
  }

  async match(text: string): Promise<RecordSummary[]> {
    return this.guard('read', async () => {
      const rows = await this.store.query<{summary: string}>(
        `SELECT summary FROM ${DB}.\`runs\` WHERE id = {text:String} OR run_id = {text:String} OR substring(id, 1, {n:UInt32}) = {text:String}`,
        {n: text.length, text},
      )
      return matchSummaries(
        rows.map((row) => JSON.parse(row.summary) as RecordSummary),
        text,
      ).sort(newestFirst)
    })
  }

  async setBaseline(name: string, id: string): Promise<Baseline> {
    assertBaselineName(name)
    const now = Date.now()
    await this.guard('write to', () => this.insert('baselines', [{deleted: 0, id, name, set_at: dateTime(now), set_at_ms: now}]))
    return {id, name, setAt: new Date(now).toISOString()}
  }

  async baselines(): Promise<Baseline[]> {
    return this.readBaselines()
  }

  async baseline(name: string): Promise<Baseline | undefined> {
    assertBaselineName(name)
    return (await this.readBaselines(name))[0]
  }

  async deleteBaseline(name: string): Promise<boolean> {
    const existing = await this.baseline(name)
    if (!existing) return false
    const now = Math.max(Date.now(), Date.parse(existing.setAt) + 1)
    await this.guard('write to', () => this.insert('baselines', [{deleted: 1, id: '', name, set_at: dateTime(now), set_at_ms: now}]))
    return true
  }

  async close(): Promise<void> {
    await this.store.close()
  }

  private async readBaselines(name?: string): Promise<Baseline[]> {
    return this.guard('read', async () => {
      const rows = await this.store.query<{name: string; id: string; at: number}>(
        `SELECT name, id, at FROM (SELECT name, argMax(id, set_at_ms) AS id, argMax(deleted, set_at_ms) AS gone, max(set_at_ms) AS at FROM ${DB}.\`baselines\`${name === undefined ? '' : ' WHERE name = {name:String}'} GROUP BY name) WHERE gone = 0 ORDER BY name`,
        name === undefined ? undefined : {name},
      )
      return rows.map((row) => ({id: row.id, name: row.name, setAt: new Date(Number(row.at)).toISOString()}))
    })
  }

  private async ensureSchema(): Promise<void> {
    await this.guard('create', async () => {
      for (const sql of HISTORY_DDL) {
        try {
          await this.store.command(sql)
        } catch (error) {
          if (!(error instanceof ClickHouseError && error.code !== undefined && ALREADY_EXISTS_CODES.has(error.code))) throw error
        }
      }
    })
  }

  /** Rows as JSONEachRow in the statement itself: the storage interface's insert is for log rows only. */
  private async insert(table: (typeof HISTORY_TABLES)[number], rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return
    await this.store.command(`INSERT INTO ${DB}.\`${table}\` FORMAT JSONEachRow\n${rows.map((row) => JSON.stringify(row)).join('\n')}\n`)
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (error instanceof LogbenchError) throw error
      throw environmentError(`cannot ${what} the run history in ${this.location}: ${messageOf(error)}`, 'check --history-url (or LOGBENCH_HISTORY_URL) and that the user may create and write the logbench database', error)
    }
  }
}
