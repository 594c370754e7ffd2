/**
 * `compare` end to end: resolve both sides, name how they were set up
 * differently, compare them metric by metric, and judge the --fail-on gates.
 * The report is what `compare --json` prints.
 */
import type {HistoryStore} from '../store/types.js'

import {isCapacity} from '../document.js'
import {DEFAULT_SEED, type Random, seededRandom} from '../stats/random.js'
import {compareResults, type Comparison, type MetricComparison, type SideSummary} from './compare.js'
import {configDifferences, type Difference, sideInconsistencies} from './differences.js'
import {type Gate, type Regression, regressionsOf, unjudgedGates} from './gate.js'
import {lazyHistory, type LoadedRun, resolveSide} from './reference.js'

export interface RunReference {
  /** As typed. */
  ref: string
  source: 'history' | 'file'
  /** The history's id of the run, or the file's path. */
  label: string
  runId: string | null
  kind: string
  startedAt: string | null
}

export interface CompareSide extends SideSummary {
  runs: RunReference[]
}

export interface CompareReport {
  base: CompareSide
  contender: CompareSide
  /** intervals: one run a side, its steady intervals the samples; runs: several runs a side, each one sample. */
  mode: Comparison['mode']
  practicalPercent: number
  differences: Difference[]
  metrics: MetricComparison[]
  /** The --fail-on gates broken: each makes compare exit 4. */
  regressions: Regression[]
  /** --fail-on gates whose metric could not be judged (not measured on a side). */
  unjudged: string[]
  notes: string[]
}

export interface CompareRequest {
  base: string
  contender: string
  practicalPercent: number
  gates?: readonly Gate[]
  cwd: string
  /** Opens the history; called only when a reference needs it. */
  openHistory(): Promise<HistoryStore>
  random?: Random
  replicates?: number
}

export interface CompareOutcome {
  report: CompareReport
  base: LoadedRun[]
  contender: LoadedRun[]
}

function reference(run: LoadedRun): RunReference {
  return {
    kind: run.result.kind,
    label: run.label,
    ref: run.ref,
    runId: typeof run.result.runId === 'string' ? run.result.runId : null,
    source: run.source,
    startedAt: typeof run.result.startedAt === 'string' ? run.result.startedAt : null,
  }
}

export async function runComparison(request: CompareRequest): Promise<CompareOutcome> {
  const lazy = lazyHistory(request.openHistory)
  try {
    const context = {cwd: request.cwd, history: lazy.history}
    const base = await resolveSide(request.base, context)
    const contender = await resolveSide(request.contender, context)
    const comparison = compareResults(
      base.map((r) => r.result),
      contender.map((r) => r.result),
      {practicalPercent: request.practicalPercent, random: request.random ?? seededRandom(DEFAULT_SEED), replicates: request.replicates},
    )
    const notes = [...comparison.notes]
    for (const [side, runs] of [['base', base], ['contender', contender]] as const) {
      const differing = sideInconsistencies(runs)
      if (differing.length > 0) notes.push(`the ${side} runs differ among themselves in ${differing.join(', ')}`)
      for (const run of runs) if (!isCapacity(run.result) && run.result.interrupted) notes.push(`${run.label} was interrupted: its result is partial`)
    }

    const gates = request.gates ?? []
    const report: CompareReport = {
      base: {...comparison.base, runs: base.map((r) => reference(r))},
      contender: {...comparison.contender, runs: contender.map((r) => reference(r))},
      differences: configDifferences(base[0], contender[0]),
      metrics: comparison.metrics,
      mode: comparison.mode,
      notes,
      practicalPercent: comparison.practicalPercent,
      regressions: regressionsOf(comparison, gates),
      unjudged: unjudgedGates(comparison, gates).map((g) => g.expression),
    }
    return {base, contender, report}
  } finally {
    await lazy.close()
  }
}

export {type Comparison, compareResults, type MetricComparison, type Verdict} from './compare.js'
export {type Difference} from './differences.js'
export {type Gate, parseGate, parsePractical, type Regression} from './gate.js'
export {METRICS, metricNamed, type MetricName} from './metrics.js'
export {type LoadedRun} from './reference.js'
