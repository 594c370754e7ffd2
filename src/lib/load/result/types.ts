/**
 * The result documents: what `run --json` prints, what a worker sends as its
 * final event, what `parallel --json` and `merge --json` print. Their shape is
 * an API (numbers in base units: ms, bytes, logs).
 */
import type {ClickHouseView} from '../measure/clickhouse-view.js'
import type {ResourceSeries} from '../measure/resources.js'
import type {Timeline} from '../measure/timeline.js'
import type {Bottleneck} from '../measure/bottleneck.js'
import type {StageResult} from '../measure/stages.js'
import type {ProtocolConfig} from '../protocols/index.js'
import type {LatencySummary} from '../measure/histogram.js'
import type {Payload, Weighted} from '../generate/synth.js'
import type {Verification} from '../../verify/verify.js'

export const RESULT_VERSION = 1

/** A worker's place among the workers sharing a run id. */
export interface WorkerSlot {
  /** 0-based index of this worker among `count`. */
  index: number
  count: number
}

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!='

/** A --threshold (or --slo) expression, parsed (checks/thresholds.ts). */
export interface Threshold {
  expression: string
  metric: string
  op: Operator
  /** In base units: ms for latencies, logs/s, counts, ratios in 0..1. */
  value: number
}

export interface ThresholdOutcome extends Threshold {
  /** The measured value, or null when it could not be measured. */
  actual: number | null
  ok: boolean
  /** Why a threshold failed without a value. */
  reason?: string
}

export interface RunConfig {
  /** URL the batches were POSTed to. */
  target: string
  payload: Payload
  /** The wire protocol and its options (absent in results of older versions: json). */
  protocol?: ProtocolConfig
  /** The body template file, when the entries followed one. */
  template?: string
  batchSize: number
  model: 'closed' | 'open'
  concurrency: number
  /** Open model: target logs/s of this worker (or of all workers, in an aggregate). */
  rate?: number
  /** Open model, shaped: each stage's length and end rate (of this worker, or of all workers). */
  stages?: {durationMs: number; rate: number}[]
  startRate?: number
  /** Open model: the warm-up before the measured part, ms. */
  warmupMs?: number
  maxInFlight?: number
  /** Count-bound runs: logs planned for this worker (or in total, in an aggregate). */
  logs?: number
  /** Time-bound runs. */
  durationMs?: number
  seed: number
  apps: Weighted[]
  errorRate: number
  worker: WorkerSlot
  retries: number
  timeoutMs: number
}

export interface Counts {
  sent: number
  acked: number
  failed: number
}

export interface LatencyReport extends LatencySummary {
  /** HDR histogram of the values in microseconds, compressed and base64-encoded. */
  histogram: string
}

export interface Measurements {
  runId: string
  startedAt: string
  endedAt: string
  durationMs: number
  logs: Counts
  batches: Counts
  bytes: {sent: number}
  throughput: {logsPerSecond: number; batchesPerSecond: number; bytesPerSecond: number}
  /** Open model: the rate asked for and the rate achieved. */
  rate: {targetLogsPerSecond: number; achievedLogsPerSecond: number} | null
  /** From the intended send time to the acknowledgement (coordinated-omission safe). */
  latency: LatencyReport
  /** From the actual first send to the acknowledgement. */
  serviceLatency: LatencyReport
  /**
   * Batches that failed for good, by class of their last error, with one sample message per class;
   * and logs that failed for good (whole batches, and records an answer refused), by class and by
   * kind (backpressure, transport, rejected, other, interrupted). Older results lack the log counts.
   */
  errors: {total: number; byClass: Record<string, number>; samples: Record<string, string>; logsByClass?: Record<string, number>; logsByKind?: Record<string, number>}
  /** Attempts that failed and were retried, by class. */
  retries: {count: number; byClass: Record<string, number>}
  /** Keys (batch × workers + worker) of batches not acknowledged, for exact verification; capped. */
  failedBatches: {keys: number[]; truncated: boolean}
  interrupted: boolean
  verification: Verification | null
  /** Why there is no verification, and what to pass to get one (absent when verified). */
  verificationNote?: string
  thresholds: ThresholdOutcome[]
  /** The run per wall-clock interval (absent in results of older versions). */
  timeline?: Timeline
  /** ClickHouse's own view during the run, when logbench could reach the store. */
  clickhouse?: ClickHouseView | null
  /** CPU and RSS of logbench's own serve per interval, read from its /metrics. */
  serveResources?: ResourceSeries | null
  /** What limited the result, in words. */
  bottleneck?: Bottleneck
  /** Shaped runs: each stage's own figures, the warm-up first (kind "warmup"); absent otherwise. */
  stages?: StageResult[]
  /**
   * The warm-up: its length and the logs of it acknowledged. They are verified, but throughput and
   * latency are those of the measured part only.
   */
  warmup?: {durationMs: number; acked: number}
}

export interface RunResult extends Measurements {
  kind: 'run'
  version: number
  host: string
  pid: number
  config: RunConfig
  stopReason: 'completed' | 'interrupted' | 'unreachable'
  resources: {
    peakRssBytes: number
    cpuUserMs: number
    cpuSystemMs: number
    cpuPerLogUs: number
    /** Time the event loop was busy while sending, ms. */
    busyMs?: number
    /** The process also ran serve and the engine (a zero set-up run). */
    sharedWithServe?: boolean
  }
}

export type WorkerStatus = 'ok' | 'failed' | 'interrupted'

export interface WorkerReport {
  index: number
  pid?: number
  status: WorkerStatus
  exitCode?: number | null
  signal?: string | null
  /** Why a worker failed, in words. */
  error?: string
  durationMs: number
  logs: Counts
  logsPerSecond: number
  p50Ms: number
  p99Ms: number
  errors: number
  retries: number
  /** The worker's own result, when it produced one. */
  result?: RunResult
}

export interface AggregateResult extends Measurements {
  kind: 'parallel' | 'merge'
  version: number
  config: Omit<RunConfig, 'worker'> & {workers: number; logsPerWorker?: number}
  workers: WorkerReport[]
  workersSucceeded: number
  workersFailed: number
  averagePerWorker: {durationMs: number; logsPerSecond: number}
  assessment: Assessment
  /** merge: the files read. */
  sources?: string[]
}

export interface Assessment {
  grade: 'excellent' | 'good' | 'fair' | 'poor' | 'failed'
  summary: string
}
