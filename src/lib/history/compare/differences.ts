/**
 * How two runs were set up differently. Named before the comparison and
 * warned about, never refused: the difference may be exactly what is tested.
 */
import type {ResultDoc} from '../document.js'
import type {RecordSummary} from '../record/record.js'

import {formatDuration, formatInt} from '../../format/units.js'
import {configSummary} from '../record/record.js'

export interface Difference {
  /** What differs, in words: "batch size", "ClickHouse version". */
  field: string
  base: string
  contender: string
}

/** A run to compare: its result and, when it came from the history, its record. */
export interface Subject {
  result: ResultDoc
  record?: RecordSummary
}

const text = (value: string | number | null | undefined, format?: (v: number) => string): string | null => {
  if (value === null || value === undefined || value === '') return null
  return typeof value === 'number' ? (format ? format(value) : String(value)) : value
}

interface Field {
  field: string
  read(subject: Subject): string | null
  /** Compared only when both sides know it (facts a result file does not carry). */
  bothKnown?: boolean
}

const FIELDS: Field[] = [
  {field: 'kind', read: (s) => s.result.kind},
  {field: 'target', read: (s) => text(configSummary(s.result).target)},
  {field: 'protocol', read: (s) => text(configSummary(s.result).protocol)},
  {field: 'batch size', read: (s) => text(configSummary(s.result).batchSize, formatInt)},
  {field: 'model', read: (s) => text(configSummary(s.result).model)},
  {field: 'rate', read: (s) => text(configSummary(s.result).rate, (v) => `${formatInt(v)} logs/s`)},
  {field: 'concurrency', read: (s) => text(configSummary(s.result).concurrency)},
  {field: 'stages', read: (s) => text(configSummary(s.result).stages)},
  {field: 'workers', read: (s) => text(configSummary(s.result).workers)},
  {field: 'logs', read: (s) => text(configSummary(s.result).logs, formatInt)},
  {field: 'duration', read: (s) => text(configSummary(s.result).durationMs, formatDuration)},
  {field: 'template', read: (s) => text(configSummary(s.result).template)},
  {field: 'seed', read: (s) => text(configSummary(s.result).seed)},
  {bothKnown: true, field: 'ClickHouse version', read: (s) => text(s.record?.clickhouse?.version)},
  {
    bothKnown: true,
    field: 'table',
    read: (s) => text(s.record?.clickhouse?.table ?? (s.result.kind === 'capacity' ? null : s.result.clickhouse?.table)),
  },
  {bothKnown: true, field: 'logbench version', read: (s) => text(s.record?.logbenchVersion)},
  {bothKnown: true, field: 'host CPU', read: (s) => text(s.record?.host ? `${s.record.host.cpuModel}, ${s.record.host.cores} cores` : null)},
]

export function configDifferences(base: Subject, contender: Subject): Difference[] {
  const out: Difference[] = []
  for (const field of FIELDS) {
    const b = field.read(base)
    const c = field.read(contender)
    if (b === c) continue
    if (field.bothKnown && (b === null || c === null)) continue
    out.push({base: b ?? '—', contender: c ?? '—', field: field.field})
  }

  return out
}

/** Fields in which the runs of one side differ among themselves. */
export function sideInconsistencies(subjects: readonly Subject[]): string[] {
  const fields = new Set<string>()
  for (const other of subjects.slice(1)) for (const d of configDifferences(subjects[0], other)) fields.add(d.field)
  return [...fields]
}
