/**
 * The settings of a capacity search, parsed from flag values (plain strings
 * and numbers; no CLI framework here): the load settings `run` takes (target,
 * protocol, batches, verification), and what only a search has: workers, the
 * SLOs a trial must hold, the rates to search between, the precision, the
 * length of a trial and its warm-up, and the budget.
 */
import {usageError} from '../errors.js'
import type {Threshold} from '../load/result/types.js'

import {parseThreshold} from '../load/checks/thresholds.js'
import {type LoadFlagValues, type LoadSettings, parseLoadFlags} from '../load/settings.js'
import {parseDuration, parseRate as parseRateText} from '../parse.js'

/** Why a trial failed (or could not be judged): every reason is named. */
export type Reason = 'generator' | 'latency' | 'backlog' | 'errors' | 'loss' | 'parts'

/** The order reasons are listed in. */
export const REASONS: readonly Reason[] = ['generator', 'latency', 'backlog', 'errors', 'loss', 'parts']

/** The metrics of the threshold grammar a trial can hold as an objective, and the reason a breach is named by. */
const SLO_METRICS: Record<string, Reason> = {
  duplicated: 'loss',
  error_rate: 'errors',
  errors: 'errors',
  failed: 'errors',
  lost: 'loss',
  max: 'latency',
  mean: 'latency',
  min: 'latency',
  missing: 'loss',
  p50: 'latency',
  p90: 'latency',
  p99: 'latency',
  'p99.9': 'latency',
  p999: 'latency',
  retries: 'errors',
}

/** Metrics of `--threshold` that describe the load offered, not an objective a sustained rate must hold. */
const LOAD_METRICS = new Set(['acked', 'sent', 'throughput', 'rate'])

export const SLO_METRIC_NAMES = Object.keys(SLO_METRICS)

export interface Slo {
  threshold: Threshold
  /** The reason a breach is named by. */
  reason: Reason
  /** Added by logbench (a default), not given with --slo. */
  implicit?: boolean
}

/** Defaults when no --slo speaks of errors, and of loss (the latter only when the trials can be verified). */
export const DEFAULT_ERROR_SLO = 'error_rate<=0.1%'
export const DEFAULT_LOSS_SLOS = ['lost==0', 'duplicated==0'] as const

const SLO_HINT = `write metric, operator, value: "p99<=300ms", "p999<=1s", "error_rate<=0.1%", "lost==0"; metrics: ${SLO_METRIC_NAMES.join(', ')}`

/** One --slo: an expression of the threshold grammar on a metric a trial can hold. */
export function parseSlo(expression: string): Slo {
  const name = /^\s*([a-z_][a-z0-9_.]*)/i.exec(expression)?.[1]?.toLowerCase()
  if (name !== undefined && !(name in SLO_METRICS)) {
    if (LOAD_METRICS.has(name)) {
      throw usageError(`--slo "${expression}": ${name} measures the load offered, not an objective a trial holds`, `the search finds the rate itself; give objectives such as ${SLO_HINT.slice(SLO_HINT.indexOf('"'))}`)
    }

    throw usageError(`--slo "${expression}": unknown metric "${name}"`, SLO_HINT)
  }

  let threshold: Threshold
  try {
    threshold = parseThreshold(expression)
  } catch (error) {
    // The grammar's own words, said of --slo: '…: unit "x" does not fit p99', '… is not an expression'.
    const rest = (error as Error).message.replace(/^threshold "[^"]*"/, '')
    throw usageError(`--slo "${expression}"${rest}`, SLO_HINT)
  }

  return {reason: SLO_METRICS[threshold.metric], threshold}
}

/**
 * The SLOs with logbench's defaults added: error_rate<=0.1% when none speaks of errors; lost==0 and
 * duplicated==0, each unless an SLO names it, when the trials are verified (every log stored).
 */
export function withDefaultSlos(slos: readonly Slo[], verified: boolean): Slo[] {
  const all = [...slos]
  if (!slos.some((slo) => slo.reason === 'errors')) all.push({...parseSlo(DEFAULT_ERROR_SLO), implicit: true})
  if (verified) {
    const named = new Set(slos.map((slo) => (slo.threshold.metric === 'missing' ? 'lost' : slo.threshold.metric)))
    for (const expression of DEFAULT_LOSS_SLOS) {
      const slo = parseSlo(expression)
      if (!named.has(slo.threshold.metric)) all.push({...slo, implicit: true})
    }
  }

  return all
}

/** A rate in logs/s: 20000, 20k, 1.5m; a whole number of at least 1. */
/** A rate of the search: logs per second, at least 1 (20000, 20k, 1.5m). */
export function parseRate(text: string, flag: string): number {
  return parseRateText(text, flag)
}

/** --precision: a percentage (5, 5% or 0.5%: a bare number is a percentage too), above 0 and below 100. */
export function parsePrecision(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text)
  const value = match ? Number(match[1]) / 100 : Number.NaN
  if (!match) throw usageError(`--precision "${text}" is not a percentage`, 'give e.g. --precision 5%')
  if (!(value > 0 && value < 1)) throw usageError(`--precision ${text} must lie above 0% and below 100%`, 'give e.g. --precision 5% (the search stops once the highest passing and the lowest failing rate are that close)')
  return value
}

/** The flags of `capacity`: the targeting and verification flags of `run`, and the search's own. */
export interface CapacityFlagValues
  extends Pick<
    LoadFlagValues,
    | 'target'
    | 'header'
    | 'protocol'
    | 'payload'
    | 'otlp-encoding'
    | 'loki-shards'
    | 'es-index'
    | 'batch-size'
    | 'max-in-flight'
    | 'timeout'
    | 'retries'
    | 'seed'
    | 'template'
    | 'apps'
    | 'verify'
    | 'verify-wait'
    | 'interval'
  > {
  workers: number
  slo?: string[]
  start?: string
  max?: string
  precision?: string
  trial?: string
  'trial-warmup'?: string
  budget?: string
}

export interface CapacitySettings {
  /** The load settings of every trial; each trial sets its own rate, duration and run id. */
  load: LoadSettings
  workers: number
  /** The SLOs as given (logbench's defaults are added once it is known whether the trials are verified). */
  slos: Slo[]
  startLogsPerSecond: number
  maxLogsPerSecond?: number
  /** The search stops once lowest failing / highest passing − 1 is below this (0.05 for 5%). */
  precision: number
  /** The judged window of a trial, after its warm-up (ms). */
  trialMs: number
  warmupMs: number
  budgetMs?: number
}

export const DEFAULTS = {precision: '5%', start: '1000', trial: '30s'} as const

/** The warm-up of a trial unless --trial-warmup says otherwise: a fifth of the trial, at least 5 s, at most the trial. */
export function defaultWarmupMs(trialMs: number): number {
  return Math.round(Math.max(trialMs / 5, Math.min(5000, trialMs)))
}

export function parseCapacityFlags(flags: CapacityFlagValues): CapacitySettings {
  const load = parseLoadFlags({
    ...flags,
    concurrency: 1,
    'error-rate': undefined,
    threshold: [],
  })
  const slos = (flags.slo ?? []).map((expression) => parseSlo(expression))
  if (!load.verify) {
    const loss = slos.find((slo) => slo.reason === 'loss')
    if (loss) throw usageError(`--slo ${loss.threshold.expression} needs verification, and --no-verify turns it off`, `leave --no-verify out, or drop the --slo on ${loss.threshold.metric}`)
  }

  const start = parseRate(flags.start ?? DEFAULTS.start, '--start')
  const max = flags.max === undefined ? undefined : parseRate(flags.max, '--max')
  if (max !== undefined && start > max) throw usageError(`--start ${start} is above --max ${max}`, 'give a --start at or below --max')
  if (start < flags.workers) {
    throw usageError(`--start ${start} is less than one log per second for each of ${flags.workers} workers`, 'raise --start or use fewer --workers')
  }

  const trialMs = parseDuration(flags.trial ?? DEFAULTS.trial, '--trial')
  if (trialMs < 3 * load.intervalMs) {
    throw usageError(
      `--trial ${flags.trial ?? DEFAULTS.trial} is shorter than three intervals of ${load.intervalMs} ms`,
      'a trial is judged on its intervals (the p99 of its first third against its last): give a longer --trial or a shorter --interval',
    )
  }

  // By default a fifth of the trial, and at least 5 s (never more than the trial): a trial starts
  // with fresh workers, and the target takes a few seconds to settle at a new rate.
  const warmupMs = flags['trial-warmup'] === undefined ? defaultWarmupMs(trialMs) : parseDuration(flags['trial-warmup'], '--trial-warmup', {allowZero: true})
  const budgetMs = flags.budget === undefined ? undefined : parseDuration(flags.budget, '--budget')
  if (budgetMs !== undefined && budgetMs < trialMs + warmupMs) {
    throw usageError(`--budget ${flags.budget} is shorter than one trial (${(trialMs + warmupMs) / 1000} s with its warm-up)`, 'give a --budget of several trials, or a shorter --trial')
  }

  return {
    budgetMs,
    load,
    maxLogsPerSecond: max,
    precision: parsePrecision(flags.precision ?? DEFAULTS.precision),
    slos,
    startLogsPerSecond: start,
    trialMs,
    warmupMs,
    workers: flags.workers,
  }
}
