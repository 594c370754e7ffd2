/**
 * `--threshold` expressions: `metric op value[unit]`, e.g. `throughput>=20000`,
 * `p99<=250ms`, `errors==0`, `lost==0`, `error_rate<0.5%`. A metric that
 * cannot be measured (lost without a store to verify against) fails its
 * threshold: a gate never passes on missing data.
 */
import type {Measurements, Operator, Threshold, ThresholdOutcome} from '../result/types.js'

import {usageError} from '../../errors.js'

export type {Operator, Threshold, ThresholdOutcome} from '../result/types.js'

type Kind = 'latency' | 'rate' | 'count' | 'ratio'

interface MetricDef {
  kind: Kind
  description: string
  read(m: Measurements): number | null
}

const LATENCY_KEYS = {max: 'maxMs', mean: 'meanMs', min: 'minMs', p50: 'p50Ms', p90: 'p90Ms', p99: 'p99Ms', 'p99.9': 'p999Ms', p999: 'p999Ms'} as const

const METRICS: Record<string, MetricDef> = {
  acked: {description: 'logs acknowledged', kind: 'count', read: (m) => m.logs.acked},
  duplicated: {description: 'rows stored more than once (verification)', kind: 'count', read: (m) => m.verification?.duplicated ?? null},
  error_rate: {description: 'failed logs / sent logs', kind: 'ratio', read: (m) => (m.logs.sent === 0 ? 0 : m.logs.failed / m.logs.sent)},
  errors: {description: 'batches that failed for good', kind: 'count', read: (m) => m.errors.total},
  failed: {description: 'logs not acknowledged', kind: 'count', read: (m) => m.logs.failed},
  lost: {description: 'acknowledged logs missing from storage (verification)', kind: 'count', read: (m) => m.verification?.missing ?? null},
  missing: {description: 'acknowledged logs missing from storage (verification)', kind: 'count', read: (m) => m.verification?.missing ?? null},
  rate: {description: 'achieved logs/s of an open-model run', kind: 'rate', read: (m) => m.rate?.achievedLogsPerSecond ?? null},
  retries: {description: 'attempts retried', kind: 'count', read: (m) => m.retries.count},
  sent: {description: 'logs sent', kind: 'count', read: (m) => m.logs.sent},
  throughput: {description: 'acknowledged logs per second', kind: 'rate', read: (m) => m.throughput.logsPerSecond},
  ...Object.fromEntries(
    Object.entries(LATENCY_KEYS).map(([name, key]) => [
      name,
      {description: `${name} latency (ms)`, kind: 'latency' as const, read: (m: Measurements) => (m.latency.count === 0 ? null : m.latency[key])},
    ]),
  ),
}

export const METRIC_NAMES = Object.keys(METRICS)

const EXPRESSION = /^\s*([a-z_][a-z0-9_.]*)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([a-zµ%]*)\s*$/i

export function parseThreshold(expression: string): Threshold {
  const match = EXPRESSION.exec(expression)
  const hint = `write metric, operator, value: "throughput>=20000", "p99<=250ms", "errors==0", "lost==0"; metrics: ${METRIC_NAMES.join(', ')}`
  if (!match) throw usageError(`threshold "${expression}" is not an expression`, hint)
  const metric = match[1].toLowerCase()
  const def = METRICS[metric]
  if (!def) throw usageError(`threshold "${expression}": unknown metric "${match[1]}"`, hint)
  const number = Number(match[3])
  const unit = match[4].toLowerCase()
  const value = scale(def.kind, number, unit)
  if (value === undefined) {
    const units = {count: 'no unit', latency: 'us, ms or s', rate: 'no unit, k or m', ratio: 'no unit (0..1) or %'}[def.kind]
    throw usageError(`threshold "${expression}": unit "${match[4]}" does not fit ${metric} (use ${units})`)
  }

  return {expression: expression.trim(), metric, op: match[2] as Operator, value}
}

function scale(kind: Kind, n: number, unit: string): number | undefined {
  switch (kind) {
    case 'latency': {
      const factor: Record<string, number> = {'': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001}
      return unit in factor ? n * factor[unit] : undefined
    }

    case 'rate': {
      const factor: Record<string, number> = {'': 1, k: 1000, m: 1_000_000}
      return unit in factor ? n * factor[unit] : undefined
    }

    case 'ratio': {
      if (unit === '%') return n / 100
      return unit === '' ? n : undefined
    }

    default: {
      return unit === '' ? n : undefined
    }
  }
}

export function compare(actual: number, op: Operator, expected: number): boolean {
  switch (op) {
    case '<': {
      return actual < expected
    }

    case '<=': {
      return actual <= expected
    }

    case '>': {
      return actual > expected
    }

    case '>=': {
      return actual >= expected
    }

    case '==': {
      return actual === expected
    }

    default: {
      return actual !== expected
    }
  }
}

export function evaluateThresholds(thresholds: readonly Threshold[], measured: Measurements): ThresholdOutcome[] {
  return thresholds.map((threshold) => {
    const actual = METRICS[threshold.metric].read(measured)
    if (actual === null) {
      const reason =
        threshold.metric === 'lost' || threshold.metric === 'missing' || threshold.metric === 'duplicated'
          ? 'not measured: no store was reachable to verify against (run without --target, or pass --clickhouse-url)'
          : threshold.metric === 'rate'
            ? 'not measured: the run did not use --rate'
            : 'not measured: nothing was acknowledged'
      return {...threshold, actual: null, ok: false, reason}
    }

    return {...threshold, actual, ok: compare(actual, threshold.op, threshold.value)}
  })
}

export const thresholdsPassed = (outcomes: readonly ThresholdOutcome[]) => outcomes.every((outcome) => outcome.ok)
