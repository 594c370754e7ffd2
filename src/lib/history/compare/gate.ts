/**
 * `--fail-on METRIC:±PCT`, the CI gate: exit 4 when that metric regressed
 * significantly by more than PCT. The sign says which way is worse and may be
 * left out (p99:10% is p99:+10%, throughput:10% is throughput:-10%).
 */
import type {Comparison} from './compare.js'

import {usageError} from '../../errors.js'
import {type MetricName, METRICS, metricNamed} from './metrics.js'

export interface Gate {
  expression: string
  metric: MetricName
  /** The largest regression tolerated, percent (positive). */
  limitPercent: number
}

export interface Regression {
  metric: MetricName
  /** The --fail-on it breaks. */
  gate: string
  changePercent: number | null
  limitPercent: number
  base: number | null
  contender: number | null
}

const EXPRESSION = /^\s*([A-Za-z][A-Za-z0-9_.-]*)\s*:\s*([+-]?)\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/

export function parseGate(expression: string): Gate {
  const names = METRICS.map((m) => m.name).join(', ')
  const hint = `write METRIC:±PERCENT, e.g. 'p99:+10%' or 'throughput:-5%'; metrics: ${names}`
  const match = EXPRESSION.exec(expression)
  if (!match) throw usageError(`--fail-on "${expression}" is not METRIC:±PERCENT`, hint)
  const def = metricNamed(match[1])
  if (!def) throw usageError(`--fail-on "${expression}": unknown metric "${match[1]}"`, hint)
  const worse = def.better === 'higher' ? '-' : '+'
  if (match[2] && match[2] !== worse) {
    throw usageError(
      `--fail-on "${expression}": ${def.name} regresses when it ${def.better === 'higher' ? 'falls' : 'rises'}`,
      `write ${def.name}:${worse}${match[3]}%`,
    )
  }

  const limitPercent = Number(match[3])
  if (!(limitPercent < 100_000)) throw usageError(`--fail-on "${expression}": ${match[3]}% is not a percentage`)
  return {expression: expression.trim(), limitPercent, metric: def.name}
}

/** The gates a comparison breaks: a significant regression larger than the gate's limit. */
export function regressionsOf(comparison: Comparison, gates: readonly Gate[]): Regression[] {
  const out: Regression[] = []
  for (const gate of gates) {
    const m = comparison.metrics.find((metric) => metric.name === gate.metric)
    if (!m || m.verdict !== 'regressed') continue
    // From zero, a rise is larger than any limit.
    if (m.changePercent !== null && Math.abs(m.changePercent) <= gate.limitPercent) continue
    out.push({base: m.base, changePercent: m.changePercent, contender: m.contender, gate: gate.expression, limitPercent: gate.limitPercent, metric: m.name})
  }

  return out
}

/** Gates whose metric the comparison could not judge (not measured on a side, or absent). */
export function unjudgedGates(comparison: Comparison, gates: readonly Gate[]): Gate[] {
  return gates.filter((gate) => {
    const m = comparison.metrics.find((metric) => metric.name === gate.metric)
    return !m || m.verdict === 'not measured'
  })
}

/** `--practical 5%` (or 5): percent, from 0 up. */
export function parsePractical(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text)
  const value = match ? Number(match[1]) : Number.NaN
  if (!(value >= 0 && value < 1000)) throw usageError(`--practical "${text}" is not a percentage`, 'write it as 5% (a change smaller than this never counts)')
  return value
}
