/**
 * The result documents history and compare read: what `run --json`,
 * `parallel --json`, `merge --json` and `capacity --json` print. Only the
 * fields read here are typed; the documents are kept whole. Their shape is an
 * API, so these types describe it rather than import the load generator's.
 */
import {usageError} from '../errors.js'

export interface IntervalDoc {
  /** Start of the interval, epoch ms. */
  at: number
  sent: number
  acked: number
  failed: number
  /** HDR histogram of the interval's latencies (µs, compressed base64); '' when none. */
  histogram: string
  latency: {count: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number}
  /** Marked when the interval belongs to a warm-up. */
  warmup?: boolean
  kind?: string
}

export interface TimelineDoc {
  intervalMs: number
  intervals: IntervalDoc[]
}

export interface StageDoc {
  kind: 'warmup' | 'stage' | string
  index?: number
  fromLogsPerSecond?: number
  targetLogsPerSecond?: number
  /** Epoch ms, or ms since the start of the run. */
  startMs?: number
  endMs?: number
}

export interface LatencyDoc {
  count: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
}

export interface VerificationDoc {
  store?: string
  missing: number
  duplicated?: number
  ok?: boolean
  readBackDelayMs?: number | null
  pollMs?: number
}

export interface LoadConfigDoc {
  target: string
  payload?: string
  protocol?: {name: string; encoding?: string; lokiShards?: number; index?: string}
  template?: string
  batchSize: number
  model?: 'closed' | 'open'
  concurrency?: number
  rate?: number
  logs?: number
  durationMs?: number
  seed?: number
  workers?: number
  worker?: {index: number; count: number}
  stages?: unknown
  [key: string]: unknown
}

export interface LoadResultDoc {
  kind: 'run' | 'parallel' | 'merge'
  runId: string
  startedAt: string
  endedAt?: string
  durationMs?: number
  logs: {sent: number; acked: number; failed: number}
  throughput: {logsPerSecond: number}
  latency: LatencyDoc
  verification?: VerificationDoc | null
  verificationNote?: string
  timeline?: TimelineDoc
  stages?: StageDoc[]
  config: LoadConfigDoc
  clickhouse?: {table?: string} | null
  interrupted?: boolean
  workers?: unknown[]
  [key: string]: unknown
}

export interface CapacityTrialDoc {
  index?: number
  offeredLogsPerSecond: number
  achievedLogsPerSecond?: number
  verdict: 'pass' | 'fail' | 'inconclusive' | string
  reasons?: string[]
  latency?: Partial<LatencyDoc>
  errorRate?: number
  lost?: number | null
}

export interface CapacityResultDoc {
  kind: 'capacity'
  runId?: string
  startedAt?: string
  endedAt?: string
  /** The highest rate that passed; null when even the start rate failed. */
  maxSustainable: {logsPerSecond: number | null; limitedBy?: string[]}
  trials?: CapacityTrialDoc[]
  config?: {target?: string; precision?: number; workers?: number; batchSize?: number; protocol?: LoadConfigDoc['protocol']; [key: string]: unknown}
  [key: string]: unknown
}

export type ResultDoc = LoadResultDoc | CapacityResultDoc

export const isCapacity = (doc: ResultDoc): doc is CapacityResultDoc => doc.kind === 'capacity'

const WHAT = 'a result written by "logbench run --json", "parallel --json", "merge --json" or "capacity --json"'

/** A parsed JSON value as a result document, or a usage error (exit 2) naming `source`. */
export function asResultDocument(value: unknown, source: string): ResultDoc {
  const doc = value as {kind?: string; error?: {message?: string}; maxSustainable?: {logsPerSecond?: unknown}; logs?: unknown; latency?: unknown; config?: unknown; throughput?: unknown; runId?: unknown; startedAt?: unknown} | null
  if (doc && typeof doc === 'object' && doc.error && !doc.kind) throw usageError(`${source} holds an error, not a result: ${JSON.stringify(doc.error.message)}`, `give ${WHAT}`)
  if (doc && typeof doc === 'object' && doc.kind === 'capacity') {
    const max = doc.maxSustainable
    if (max && typeof max === 'object' && (max.logsPerSecond === null || typeof max.logsPerSecond === 'number')) return doc as CapacityResultDoc
    throw usageError(`${source} is a capacity result without maxSustainable.logsPerSecond`, `give ${WHAT}`)
  }

  const known = doc && typeof doc === 'object' && (doc.kind === 'run' || doc.kind === 'parallel' || doc.kind === 'merge')
  if (!known || !doc.logs || !doc.latency || !doc.config || !doc.throughput || typeof doc.runId !== 'string' || typeof doc.startedAt !== 'string') {
    throw usageError(`${source} is not a logbench result`, `give ${WHAT}`)
  }

  return doc as unknown as LoadResultDoc
}

/** JSON text as a result document; `source` names it in errors. */
export function parseResultText(text: string, source: string): ResultDoc {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw usageError(`${source} is not JSON (${(error as Error).message})`, `give ${WHAT}`)
  }

  // A history record (as `runs --json` shows one) carries its result whole.
  const wrapped = value as {format?: number; result?: unknown}
  if (wrapped && typeof wrapped === 'object' && wrapped.format !== undefined && wrapped.result && typeof wrapped.result === 'object') return asResultDocument(wrapped.result, source)
  return asResultDocument(value, source)
}
