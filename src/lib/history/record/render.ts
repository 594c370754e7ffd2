/** The history for people: `runs` and `baseline list`. */
import type {Baseline} from '../store/types.js'
import type {RecordSummary} from './record.js'

import {displayText, formatInt, formatUtc} from '../../format/units.js'
import {renderTable} from '../../format/table.js'
import {msText} from '../../format/units.js'

function verificationText(s: RecordSummary): string {
  if (s.summary.verification === 'ok') return 'ok'
  if (s.summary.verification === 'failed') return s.summary.lost ? `${formatInt(s.summary.lost)} lost` : 'failed'
  return '—'
}

export function renderRuns(runs: readonly RecordSummary[], location: string, baselines: readonly Baseline[] = []): string {
  const named = new Map<string, string[]>()
  for (const b of baselines) named.set(b.id, [...(named.get(b.id) ?? []), b.name])
  const rows = runs.map((s) => {
    const throughput = s.summary.maxSustainableLogsPerSecond ?? s.summary.throughputLogsPerSecond
    const tags = [...(named.get(s.id) ?? []).map((n) => `baseline:${n}`), ...Object.entries(s.tags).map(([k, v]) => `${k}=${v}`)].join(' ')
    return [
      displayText(s.id, 40),
      formatUtc(s.startedAt ?? s.recordedAt),
      s.command,
      displayText(s.config.target ?? '—', 40),
      throughput === null ? '—' : formatInt(throughput) + (s.summary.maxSustainableLogsPerSecond === null ? '' : ' max'),
      s.summary.p99Ms === null ? '—' : msText(s.summary.p99Ms),
      verificationText(s),
      s.exitCode === null ? '—' : String(s.exitCode),
      displayText(tags, 40),
    ]
  })
  const table = renderTable({
    align: ['left', 'left', 'left', 'left', 'right', 'right', 'left', 'right', 'left'],
    empty: '(no runs recorded yet: run, parallel, merge and capacity record themselves)',
    head: ['id', 'started (UTC)', 'command', 'target', 'logs/s', 'p99 (ms)', 'verified', 'exit', 'tags'],
    rows,
  })
  return `${table}\n${runs.length} run${runs.length === 1 ? '' : 's'} from ${location}, newest first`
}

export function renderBaselines(baselines: readonly Baseline[], location: string): string {
  const table = renderTable({
    empty: '(no baselines: set one with "logbench baseline set NAME RUN")',
    head: ['baseline', 'run', 'set (UTC)'],
    rows: baselines.map((b) => [displayText(b.name), displayText(b.id, 60), formatUtc(b.setAt)]),
  })
  return `${table}\n${baselines.length} baseline${baselines.length === 1 ? '' : 's'} in ${location}`
}
