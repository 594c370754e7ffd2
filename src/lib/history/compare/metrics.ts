/** The metrics compare judges, their units and which way is better. */

export type MetricName = 'throughput' | 'p50' | 'p90' | 'p99' | 'p99.9' | 'error_rate' | 'lost' | 'read_back_delay' | 'max_sustainable'

export interface MetricDef {
  name: MetricName
  /** How the table names it (the unit goes with it). */
  label: string
  /** Base unit of its values: logs/s, ms, a ratio (0..1) or a count of logs. */
  unit: 'logs/s' | 'ms' | 'ratio' | 'logs'
  better: 'higher' | 'lower'
  description: string
}

export const METRICS: readonly MetricDef[] = [
  {better: 'higher', description: 'acknowledged logs per second over the steady intervals', label: 'throughput', name: 'throughput', unit: 'logs/s'},
  {better: 'lower', description: 'median latency of the steady intervals\' merged histograms', label: 'p50', name: 'p50', unit: 'ms'},
  {better: 'lower', description: '90th percentile latency', label: 'p90', name: 'p90', unit: 'ms'},
  {better: 'lower', description: '99th percentile latency', label: 'p99', name: 'p99', unit: 'ms'},
  {better: 'lower', description: '99.9th percentile latency', label: 'p99.9', name: 'p99.9', unit: 'ms'},
  {better: 'lower', description: 'failed logs / sent logs over the steady intervals', label: 'error rate', name: 'error_rate', unit: 'ratio'},
  {better: 'lower', description: 'acknowledged logs missing from storage (verification)', label: 'lost logs', name: 'lost', unit: 'logs'},
  {better: 'lower', description: 'from the last acknowledgement until every acknowledged log was visible (verification with --verify-wait)', label: 'read-back delay', name: 'read_back_delay', unit: 'ms'},
  {better: 'higher', description: 'capacity runs: the highest rate sustained within the SLOs', label: 'max sustainable', name: 'max_sustainable', unit: 'logs/s'},
]

export const PERCENTILES: readonly {name: MetricName; p: number}[] = [
  {name: 'p50', p: 50},
  {name: 'p90', p: 90},
  {name: 'p99', p: 99},
  {name: 'p99.9', p: 99.9},
]

const ALIASES: Record<string, MetricName> = {
  'error-rate': 'error_rate',
  errorrate: 'error_rate',
  'lost-logs': 'lost',
  lost_logs: 'lost',
  missing: 'lost',
  'max-sustainable': 'max_sustainable',
  p999: 'p99.9',
  'read-back-delay': 'read_back_delay',
  readback: 'read_back_delay',
  'readback-delay': 'read_back_delay',
  readback_delay: 'read_back_delay',
}

/** A metric by its name or an alias (p999, readback, error-rate, ...); undefined when unknown. */
export function metricNamed(text: string): MetricDef | undefined {
  const key = text.trim().toLowerCase()
  const name = ALIASES[key] ?? key
  return METRICS.find((m) => m.name === name)
}

export const metricDef = (name: MetricName): MetricDef => METRICS.find((m) => m.name === name)!
