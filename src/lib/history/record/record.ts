/**
 * One run as the history keeps it: the whole result document, and beside it
 * what the result does not say (the command line, logbench's version, the
 * ClickHouse server and table, the host, the git commit, the user's tags, the
 * exit code) and a summary to list runs by without reading every result.
 */
import type {GitInfo, HostInfo} from './host.js'

import {usageError} from '../../errors.js'
import {type CapacityResultDoc, isCapacity, type LoadResultDoc, type ResultDoc} from '../document.js'
import {redactArgv, redactUrl} from './redact.js'

export const RECORD_FORMAT = 1

/** The configuration fields runs are compared on, read from a result. */
export interface ConfigSummary {
  target: string | null
  /** e.g. "json (array)", "otlp (protobuf)". */
  protocol: string | null
  batchSize: number | null
  model: 'closed' | 'open' | null
  /** Open model: logs/s asked for, all workers together. */
  rate: number | null
  /** Closed model: batches in flight per worker. */
  concurrency: number | null
  workers: number | null
  /** The load shape (stages), in words; null without stages. */
  stages: string | null
  logs: number | null
  durationMs: number | null
  template: string | null
  seed: number | null
}

export interface RunSummary {
  throughputLogsPerSecond: number | null
  p50Ms: number | null
  p90Ms: number | null
  p99Ms: number | null
  p999Ms: number | null
  /** Failed logs / sent logs. */
  errorRate: number | null
  /** Acknowledged logs missing from storage; null when not verified. */
  lost: number | null
  readBackDelayMs: number | null
  verification: 'ok' | 'failed' | 'not verified'
  /** Capacity runs: the maximum sustainable rate. */
  maxSustainableLogsPerSecond: number | null
}

export interface ClickHouseInfo {
  version: string | null
  /** `database.table` under test. */
  table: string | null
}

/** Everything of a record but the result: what `runs` lists. */
export interface RecordSummary {
  format: number
  /** The history's id of the record: the run id, made unique in the history. */
  id: string
  runId: string
  kind: ResultDoc['kind']
  command: string
  startedAt: string | null
  endedAt: string | null
  recordedAt: string
  logbenchVersion: string
  config: ConfigSummary
  clickhouse: ClickHouseInfo | null
  /** Where it ran; null for a result file recorded afterwards (baseline set FILE). */
  host: HostInfo | null
  git: GitInfo | null
  tags: Record<string, string>
  exitCode: number | null
  summary: RunSummary
}

export interface RunRecord extends RecordSummary {
  /** The command line, secrets replaced by ***. */
  argv: string[]
  /** The whole --json result. */
  result: ResultDoc
}

export const summaryOf = (record: RunRecord): RecordSummary => {
  const {argv: _argv, result: _result, ...summary} = record
  return summary
}

function protocolText(protocol: LoadResultDoc['config']['protocol'] | undefined, payload: string | undefined): string | null {
  const name = protocol?.name ?? (payload ? 'json' : undefined)
  if (!name) return null
  const detail = name === 'json' ? payload : name === 'otlp' ? protocol?.encoding ?? 'protobuf' : name === 'loki' && protocol?.lokiShards && protocol.lokiShards > 1 ? `${protocol.lokiShards} shards` : name === 'elasticsearch' ? protocol?.index : undefined
  return detail ? `${name} (${detail})` : name
}

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null)
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null)

function stagesText(doc: LoadResultDoc): string | null {
  const fromConfig = doc.config.stages
  if (Array.isArray(fromConfig) && fromConfig.length > 0) return JSON.stringify(fromConfig)
  const stages = Array.isArray(doc.stages) ? doc.stages : []
  if (stages.length === 0) return null
  return stages
    .map((s) => {
      const seconds = typeof s.startMs === 'number' && typeof s.endMs === 'number' ? `${Math.round((s.endMs - s.startMs) / 100) / 10}s` : '?'
      return `${s.kind === 'warmup' ? 'warmup ' : ''}${seconds}:${s.targetLogsPerSecond ?? '?'}`
    })
    .join(', ')
}

export function configSummary(doc: ResultDoc): ConfigSummary {
  if (isCapacity(doc)) {
    const c = doc.config ?? {}
    return {
      batchSize: num(c.batchSize),
      concurrency: null,
      durationMs: null,
      logs: null,
      model: 'open',
      protocol: protocolText(c.protocol, str(c.payload) ?? undefined),
      rate: null,
      seed: num(c.seed),
      stages: null,
      target: str(c.target) === null ? null : redactUrl(c.target as string),
      template: str(c.template),
      workers: num(c.workers),
    }
  }

  const c = doc.config
  const workers = num(c.workers) ?? (doc.kind === 'run' ? 1 : null)
  return {
    batchSize: num(c.batchSize),
    concurrency: c.model === 'open' ? null : num(c.concurrency),
    durationMs: num(c.durationMs),
    logs: num(c.logs),
    model: c.model === 'open' || c.model === 'closed' ? c.model : null,
    protocol: protocolText(c.protocol, c.payload),
    rate: c.model === 'open' ? num(c.rate) : null,
    seed: num(c.seed),
    stages: stagesText(doc),
    target: str(c.target) === null ? null : redactUrl(c.target),
    template: str(c.template),
    workers,
  }
}

function capacitySummary(doc: CapacityResultDoc): RunSummary {
  return {
    errorRate: null,
    lost: null,
    maxSustainableLogsPerSecond: num(doc.maxSustainable.logsPerSecond),
    p50Ms: null,
    p90Ms: null,
    p999Ms: null,
    p99Ms: null,
    readBackDelayMs: null,
    throughputLogsPerSecond: null,
    verification: 'not verified',
  }
}

/** The result's own headline figures. */
export function runSummary(doc: ResultDoc): RunSummary {
  if (isCapacity(doc)) return capacitySummary(doc)
  const v = doc.verification ?? null
  const measured = doc.latency.count > 0
  return {
    errorRate: doc.logs.sent > 0 ? doc.logs.failed / doc.logs.sent : null,
    lost: v ? v.missing : null,
    maxSustainableLogsPerSecond: null,
    p50Ms: measured ? doc.latency.p50Ms : null,
    p90Ms: measured ? doc.latency.p90Ms : null,
    p999Ms: measured ? doc.latency.p999Ms : null,
    p99Ms: measured ? doc.latency.p99Ms : null,
    readBackDelayMs: v ? num(v.readBackDelayMs) : null,
    throughputLogsPerSecond: num(doc.throughput.logsPerSecond),
    verification: v ? (v.ok === false || v.missing > 0 || (v.duplicated ?? 0) > 0 ? 'failed' : 'ok') : 'not verified',
  }
}

/** Characters an id may hold (it names a file of the file store). */
const ID_UNSAFE = /[^A-Za-z0-9._-]/g

/**
 * The id a result is recorded under, before it is made unique: its run id, and
 * for one worker of several (`run --worker-index i --worker-count n`) the
 * worker too, so the workers of one run and their merge do not compete for
 * one id.
 */
export function baseRecordId(doc: ResultDoc, now: Date): string {
  const stamp = now.toISOString().replaceAll(/[-:]/g, '').replace('T', '-').slice(0, 15)
  let id = (typeof doc.runId === 'string' && doc.runId ? doc.runId : `${doc.kind}-${stamp}`).replaceAll(ID_UNSAFE, '_').replace(/^[._-]+/, '')
  if (!isCapacity(doc) && doc.kind === 'run' && doc.config.worker && doc.config.worker.count > 1) id += `.w${doc.config.worker.index}`
  return (id || `${doc.kind}-${stamp}`).slice(0, 120)
}

/** The n-th candidate id (n from 1): the base, then base-2, base-3, ... */
export const candidateId = (base: string, n: number) => (n <= 1 ? base : `${base}-${n}`)

export const isValidRecordId = (id: string) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,159}$/.test(id)

const TAG_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/

/** `--tag key=value` (repeatable) as a map; a malformed tag is a usage error (exit 2). */
export function parseTags(values: readonly string[] | undefined): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const value of values ?? []) {
    const eq = value.indexOf('=')
    const key = eq === -1 ? value : value.slice(0, eq)
    const text = eq === -1 ? '' : value.slice(eq + 1)
    if (eq === -1 || !TAG_KEY.test(key)) {
      throw usageError(`--tag "${value}" is not key=value`, 'write --tag branch=main (a key of letters, digits, "_", "." and "-", then "=" and any value)')
    }

    if (text.length > 512) throw usageError(`--tag ${key}: the value is longer than 512 characters`)
    tags[key] = text
  }

  return tags
}

export interface RecordInput {
  result: ResultDoc
  command: string
  argv?: readonly string[]
  tags?: Record<string, string>
  exitCode?: number | null
  logbenchVersion: string
  clickhouse?: Partial<ClickHouseInfo> | null
  host: HostInfo | null
  git: GitInfo | null
  now: Date
}

/** A record of a result, under its base id (the store makes it unique). */
export function buildRecord(input: RecordInput): RunRecord {
  const {result} = input
  const table = input.clickhouse?.table ?? (!isCapacity(result) ? result.clickhouse?.table ?? null : null)
  const version = input.clickhouse?.version ?? null
  return {
    argv: redactArgv(input.argv ?? []),
    clickhouse: table || version ? {table: table ?? null, version} : null,
    command: input.command,
    config: configSummary(result),
    endedAt: str(result.endedAt),
    exitCode: input.exitCode ?? null,
    format: RECORD_FORMAT,
    git: input.git,
    host: input.host,
    id: baseRecordId(result, input.now),
    kind: result.kind,
    logbenchVersion: input.logbenchVersion,
    recordedAt: input.now.toISOString(),
    result,
    runId: typeof result.runId === 'string' ? result.runId : '',
    startedAt: str(result.startedAt),
    summary: runSummary(result),
    tags: {...input.tags},
  }
}

/** Newest first: by the time recorded, then by id. */
export function newestFirst(a: Pick<RecordSummary, 'recordedAt' | 'id'>, b: Pick<RecordSummary, 'recordedAt' | 'id'>): number {
  const byTime = Date.parse(b.recordedAt) - Date.parse(a.recordedAt)
  return byTime === 0 ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : byTime
}

/** Does the record carry every one of these tags? */
export const hasTags = (record: Pick<RecordSummary, 'tags'>, tags: Record<string, string>) => Object.entries(tags).every(([k, v]) => record.tags[k] === v)
