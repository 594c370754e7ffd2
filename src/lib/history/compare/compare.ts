/**
 * Base against contender, metric by metric, with statistics a CI job can
 * trust. The unit of evidence is the interval of a run's steady part (one run a
 * side) or the run (several a side): millions of requests within one run are
 * not millions of independent samples.
 *
 * - Throughput and error rate: Mann–Whitney U over the per-interval values.
 * - Latency percentiles: a bootstrap over intervals of the merged interval
 *   histograms (intervals drawn in blocks when consecutive ones are correlated).
 * - A change counts (improved / regressed) only when p < 0.05 and it is at least
 *   the practical threshold, and at least the metric's own spread.
 * - A metric is unstable when its own interval-to-interval (or run-to-run)
 *   spread is wider than the practical threshold and no change stands out of it.
 * - Lost logs and the read-back delay are one figure per run (verification):
 *   compared as facts, without a p-value. The maximum sustainable rate of a
 *   capacity run is a bracket (the highest rate that passed, the lowest that
 *   failed): a change counts when the two brackets do not overlap.
 */
import {type CapacityResultDoc, isCapacity, type LoadResultDoc, type ResultDoc} from '../document.js'
import {blockLengthFor, bootstrapChanges, bootstrapPValue, percentileInterval} from '../stats/bootstrap.js'
import {effectiveSampleSize, mean, median, relativeSpreadPercent} from '../stats/describe.js'
import {HistogramSet} from '../stats/histogram-set.js'
import {mannWhitneyU} from '../stats/mann-whitney.js'
import {type Random} from '../stats/random.js'
import {metricDef, type MetricName, METRICS, PERCENTILES} from './metrics.js'
import {steadyWindow, type SteadyWindow} from './steady.js'

export type Verdict = 'improved' | 'regressed' | 'no change' | 'unstable' | 'not measured'

export type TestName = 'mann-whitney' | 'bootstrap' | 'exact' | 'brackets'

export interface MetricComparison {
  name: MetricName
  unit: string
  better: 'higher' | 'lower'
  base: number | null
  contender: number | null
  /** (contender / base − 1)·100; null when the base is 0 or a side has no value. */
  changePercent: number | null
  /** 95% confidence interval of the change, percent. */
  ci: [number, number] | null
  pValue: number | null
  verdict: Verdict
  /** The metric's own spread: half the interquartile range over the median of its per-interval (or per-run) values, percent; the larger side's. */
  spreadPercent: number | null
  /** How the p-value (or the verdict, without one) was obtained. */
  test: TestName | null
  note?: string
}

export interface SampleSize {
  unit: 'intervals' | 'runs'
  n: number
  /** Independent observations they are worth: consecutive intervals are correlated (from the lag-1 autocorrelation of the most correlated of the run's per-interval series). */
  effective: number
}

export interface SideSummary {
  samples: SampleSize
  /** Intervals of the timeline(s) left out as warm-up. */
  warmupIntervals: number
}

export interface Comparison {
  mode: 'intervals' | 'runs'
  practicalPercent: number
  base: SideSummary
  contender: SideSummary
  metrics: MetricComparison[]
  notes: string[]
}

export interface CompareOptions {
  /** A change smaller than this (percent) never counts. */
  practicalPercent: number
  random: Random
  /** Bootstrap resamples (default 2,000). */
  replicates?: number
}

/** p below this is significant. */
export const ALPHA = 0.05
/** Fewer steady intervals than this on a side and nothing is judged from intervals. */
export const MIN_INTERVALS = 3
/** A latency percentile is judged only with at least this many latencies beyond it on each side. */
export const MIN_TAIL = 5

const totalOf = (set: HistogramSet) => {
  let total = 0
  for (let i = 0; i < set.size; i++) total += set.countOf(i)
  return total
}

interface RunData {
  doc: ResultDoc
  window: SteadyWindow | undefined
  throughputs: number[]
  errorRates: number[]
  sent: number[]
  failed: number[]
  acked: number[]
  histograms: HistogramSet | undefined
  /** Per-interval percentiles of intervals that have latencies, by metric. */
  intervalPercentiles: Map<MetricName, number[]>
  effective: number
  /** The run's own figure of each metric (steady window where there is one). */
  level: Map<MetricName, number | null>
  /** Verification's polling interval: the read-back delay's resolution. */
  readBackResolutionMs: number
  bracket: {low: number | null; high: number} | undefined
}

const ALL_WEIGHTS = (n: number) => new Float64Array(n).fill(1)

function capacityBracket(doc: CapacityResultDoc): {low: number | null; high: number} {
  const low = doc.maxSustainable.logsPerSecond
  const failing = (doc.trials ?? []).filter((t) => t.verdict === 'fail' && typeof t.offeredLogsPerSecond === 'number' && (low === null || t.offeredLogsPerSecond > low))
  if (failing.length > 0) return {high: Math.min(...failing.map((t) => t.offeredLogsPerSecond)), low}
  if (low === null) return {high: Number.POSITIVE_INFINITY, low}
  // No failing trial above the maximum: the search stopped at --max, or the document has no trials.
  const passedMax = (doc.trials ?? []).length > 0
  if (passedMax) return {high: Number.POSITIVE_INFINITY, low}
  const raw = typeof doc.config?.precision === 'number' ? doc.config.precision : 0.05
  const precision = raw >= 1 ? raw / 100 : raw
  return {high: low * (1 + precision), low}
}

function loadRunData(doc: LoadResultDoc): RunData {
  const window = steadyWindow(doc)
  const ms = window.intervalMs
  const intervals = window.intervals
  const throughputs = intervals.map((i) => (i.acked * 1000) / ms)
  const withSent = intervals.filter((i) => i.sent > 0)
  const histograms = intervals.length > 0 ? HistogramSet.fromEncoded(intervals.map((i) => i.histogram ?? '')) : undefined
  const intervalPercentiles = new Map<MetricName, number[]>(PERCENTILES.map(({name}) => [name, []]))
  if (histograms) {
    for (let i = 0; i < histograms.size; i++) {
      if (histograms.countOf(i) === 0) continue
      const values = histograms.percentilesOf(i, PERCENTILES.map(({p}) => p))
      for (const [k, {name}] of PERCENTILES.entries()) intervalPercentiles.get(name)!.push(values[k]!)
    }
  }

  const level = new Map<MetricName, number | null>()
  const steady = intervals.length > 0
  level.set('throughput', steady ? mean(throughputs) : doc.throughput.logsPerSecond)
  const merged = histograms ? histograms.percentiles(ALL_WEIGHTS(histograms.size), PERCENTILES.map(({p}) => p)) : []
  const latencyKeys = {p50: 'p50Ms', p90: 'p90Ms', p99: 'p99Ms', 'p99.9': 'p999Ms'} as const
  for (const [k, {name}] of PERCENTILES.entries()) {
    const whole = doc.latency.count > 0 ? doc.latency[latencyKeys[name as keyof typeof latencyKeys]] : null
    level.set(name, merged[k] ?? (steady ? null : whole))
  }

  const sentSum = steady ? intervals.reduce((s, i) => s + i.sent, 0) : doc.logs.sent
  const failedSum = steady ? intervals.reduce((s, i) => s + i.failed, 0) : doc.logs.failed
  level.set('error_rate', sentSum > 0 ? failedSum / sentSum : null)
  const v = doc.verification ?? null
  level.set('lost', v ? v.missing : null)
  level.set('read_back_delay', v && typeof v.readBackDelayMs === 'number' ? v.readBackDelayMs : null)
  level.set('max_sustainable', null)
  return {
    acked: intervals.map((i) => i.acked),
    bracket: undefined,
    doc,
    effective: effectiveIntervals(throughputs, [...intervalPercentiles.values()]),
    errorRates: withSent.map((i) => i.failed / i.sent),
    failed: intervals.map((i) => i.failed),
    histograms,
    intervalPercentiles,
    level,
    readBackResolutionMs: v && typeof v.pollMs === 'number' ? v.pollMs : 0,
    sent: intervals.map((i) => i.sent),
    throughputs,
    window,
  }
}

/**
 * What n intervals are worth as independent samples: a stall that spans
 * several consecutive intervals is one event, not several. Taken from the
 * most autocorrelated of the run's series (throughput and each percentile per
 * interval), so every metric of the run is judged as conservatively.
 */
function effectiveIntervals(throughputs: number[], others: number[][]): number {
  const n = throughputs.length
  if (n === 0) return 0
  let fraction = effectiveSampleSize(throughputs) / n
  for (const series of others) if (series.length >= 3) fraction = Math.min(fraction, effectiveSampleSize(series) / series.length)
  return n * fraction
}

function runData(doc: ResultDoc): RunData {
  if (!isCapacity(doc)) return loadRunData(doc)
  const level = new Map<MetricName, number | null>(METRICS.map((m) => [m.name, null]))
  level.set('max_sustainable', doc.maxSustainable.logsPerSecond)
  return {
    acked: [],
    bracket: capacityBracket(doc),
    doc,
    effective: 0,
    errorRates: [],
    failed: [],
    histograms: undefined,
    intervalPercentiles: new Map(),
    level,
    readBackResolutionMs: 0,
    sent: [],
    throughputs: [],
    window: undefined,
  }
}

const changeOf = (base: number | null, contender: number | null): number | null =>
  base === null || contender === null || base === 0 ? null : (contender / base - 1) * 100

const maxSpread = (...values: (number | null)[]): number | null => {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v))
  return known.length > 0 ? Math.max(...known) : null
}

/** The verdict of a metric with a p-value. */
export function judge(m: Pick<MetricComparison, 'base' | 'contender' | 'changePercent' | 'pValue' | 'spreadPercent' | 'better'>, practicalPercent: number): Verdict {
  if (m.base === null || m.contender === null) return 'not measured'
  const up = m.contender > m.base
  const moved = m.contender !== m.base
  // From zero, any rise is beyond every threshold.
  const size = m.changePercent === null ? Number.POSITIVE_INFINITY : Math.abs(m.changePercent)
  const spread = m.spreadPercent
  const significant = moved && m.pValue !== null && m.pValue < ALPHA && size >= practicalPercent && (spread === null || size >= spread)
  if (significant) return up === (m.better === 'higher') ? 'improved' : 'regressed'
  if (spread !== null && spread > practicalPercent) return 'unstable'
  return 'no change'
}

/** The verdict of a figure measured once a run (no p-value): a change beyond the threshold and the resolution counts. */
export function judgeFact(base: number | null, contender: number | null, better: 'higher' | 'lower', practicalPercent: number, resolution = 0): Verdict {
  if (base === null || contender === null) return 'not measured'
  const diff = contender - base
  if (Math.abs(diff) <= resolution) return 'no change'
  const size = base === 0 ? Number.POSITIVE_INFINITY : Math.abs((diff / base) * 100)
  if (size < practicalPercent) return 'no change'
  return diff > 0 === (better === 'higher') ? 'improved' : 'regressed'
}

function metric(name: MetricName, fields: Omit<MetricComparison, 'name' | 'unit' | 'better'>): MetricComparison {
  const def = metricDef(name)
  return {better: def.better, name, unit: def.unit, ...fields}
}

function notMeasured(name: MetricName, base: number | null, contender: number | null, note?: string): MetricComparison {
  return metric(name, {base, ci: null, changePercent: changeOf(base, contender), contender, note, pValue: null, spreadPercent: null, test: null, verdict: 'not measured'})
}

/** One run a side: the steady intervals are the samples. */
function compareIntervals(b: RunData, c: RunData, options: CompareOptions, notes: string[]): MetricComparison[] {
  const practical = options.practicalPercent
  const out: MetricComparison[] = []
  const nb = b.throughputs.length
  const nc = c.throughputs.length
  const enough = nb >= MIN_INTERVALS && nc >= MIN_INTERVALS
  const loads = !isCapacity(b.doc) && !isCapacity(c.doc)
  if (loads && !enough) {
    notes.push(`too few steady intervals to judge from (${nb} in the base, ${nc} in the contender; ${MIN_INTERVALS} needed on each side): run longer, or with a shorter --interval`)
  }

  const inflation = Math.max(1, nb / Math.max(b.effective, 1), nc / Math.max(c.effective, 1))
  const blockB = blockLengthFor(nb, b.effective)
  const blockC = blockLengthFor(nc, c.effective)
  const tooFew = 'too few steady intervals'
  if (loads) {
    // Throughput: Mann–Whitney U over the per-interval rates; the interval of the change by the bootstrap.
    const base = b.level.get('throughput')!
    const contender = c.level.get('throughput')!
    if (enough) {
      const weightedMean = (values: number[]) => (w: Float64Array) => {
        let sum = 0
        let n = 0
        for (let i = 0; i < values.length; i++) {
          sum += values[i] * w[i]
          n += w[i]
        }

        return [n > 0 ? sum / n : null]
      }

      const [changes = []] = bootstrapChanges(
        {blockLength: blockB, n: nb, statistics: weightedMean(b.throughputs)},
        {blockLength: blockC, n: nc, statistics: weightedMean(c.throughputs)},
        options,
      )
      const test = mannWhitneyU(b.throughputs, c.throughputs, {varianceInflation: inflation})
      const fields = {base, ci: percentileInterval(changes), changePercent: changeOf(base, contender), contender, pValue: test.pValue, spreadPercent: maxSpread(relativeSpreadPercent(b.throughputs), relativeSpreadPercent(c.throughputs)), test: 'mann-whitney' as const}
      out.push(metric('throughput', {...fields, verdict: judge({...fields, better: 'higher'}, practical)}))
    } else {
      out.push(metric('throughput', {base, ci: null, changePercent: changeOf(base, contender), contender, note: tooFew, pValue: null, spreadPercent: null, test: null, verdict: base === null || contender === null ? 'not measured' : 'unstable'}))
    }

    // Latency percentiles: one bootstrap for the four, over intervals of the merged histograms.
    const ps = PERCENTILES.map(({p}) => p)
    const latencyChanges =
      enough && b.histograms && c.histograms
        ? bootstrapChanges(
            {blockLength: blockB, n: nb, statistics: (w) => b.histograms!.percentiles(w, ps)},
            {blockLength: blockC, n: nc, statistics: (w) => c.histograms!.percentiles(w, ps)},
            options,
          )
        : undefined
    for (const [k, {name}] of PERCENTILES.entries()) {
      const base = b.level.get(name) ?? null
      const contender = c.level.get(name) ?? null
      if (base === null || contender === null) {
        out.push(notMeasured(name, base, contender, 'no latencies in a steady interval'))
        continue
      }

      if (!latencyChanges) {
        out.push(metric(name, {base, ci: null, changePercent: changeOf(base, contender), contender, note: tooFew, pValue: null, spreadPercent: null, test: null, verdict: 'unstable'}))
        continue
      }

      // A percentile is only as good as the latencies beyond it: p99.9 of 400 batches is their maximum.
      // Beyond p: (100 − p) per cent, in thousandths so 99.9 leaves exactly 1 in 1,000.
      const beyond = Math.round((100 - PERCENTILES[k].p) * 1000)
      const tail = (set: HistogramSet) => Math.floor((totalOf(set) * beyond) / 100_000)
      const fewest = Math.min(tail(b.histograms!), tail(c.histograms!))
      if (fewest < MIN_TAIL) {
        const needed = Math.ceil((MIN_TAIL * 100_000) / beyond)
        out.push(
          metric(name, {
            base,
            ci: null,
            changePercent: changeOf(base, contender),
            contender,
            note: `too few latencies beyond ${name} to judge it (${fewest} on a side, ${MIN_TAIL} needed: at least ${needed.toLocaleString('en-US')} batches in the steady intervals); run longer, or with smaller batches`,
            pValue: null,
            spreadPercent: null,
            test: null,
            verdict: 'unstable',
          }),
        )
        continue
      }

      const changes = latencyChanges[k] ?? []
      const fields = {
        base,
        ci: percentileInterval(changes),
        changePercent: changeOf(base, contender),
        contender,
        pValue: bootstrapPValue(changes),
        spreadPercent: maxSpread(relativeSpreadPercent(b.intervalPercentiles.get(name)!), relativeSpreadPercent(c.intervalPercentiles.get(name)!)),
        test: 'bootstrap' as const,
      }
      out.push(metric(name, {...fields, verdict: judge({...fields, better: 'lower'}, practical)}))
    }

    // Error rate: Mann–Whitney U over the per-interval rates.
    {
      const base = b.level.get('error_rate') ?? null
      const contender = c.level.get('error_rate') ?? null
      if (base === null || contender === null || !enough || b.errorRates.length === 0 || c.errorRates.length === 0) {
        out.push(base === null || contender === null ? notMeasured('error_rate', base, contender) : metric('error_rate', {base, ci: null, changePercent: changeOf(base, contender), contender, note: tooFew, pValue: null, spreadPercent: null, test: null, verdict: 'unstable'}))
      } else {
        const ratio = (failed: number[], sent: number[]) => (w: Float64Array) => {
          let f = 0
          let s = 0
          for (let i = 0; i < sent.length; i++) {
            f += failed[i] * w[i]
            s += sent[i] * w[i]
          }

          return [s > 0 ? f / s : null]
        }

        const [changes = []] = base > 0 ? bootstrapChanges({blockLength: blockB, n: nb, statistics: ratio(b.failed, b.sent)}, {blockLength: blockC, n: nc, statistics: ratio(c.failed, c.sent)}, options) : []
        const test = mannWhitneyU(b.errorRates, c.errorRates, {varianceInflation: inflation})
        const fields = {base, ci: base > 0 ? percentileInterval(changes) : null, changePercent: changeOf(base, contender), contender, pValue: test.pValue, spreadPercent: maxSpread(relativeSpreadPercent(b.errorRates), relativeSpreadPercent(c.errorRates)), test: 'mann-whitney' as const}
        out.push(metric('error_rate', {...fields, verdict: judge({...fields, better: 'lower'}, practical)}))
      }
    }

    // Once-a-run figures of the verification.
    for (const name of ['lost', 'read_back_delay'] as const) {
      const base = b.level.get(name) ?? null
      const contender = c.level.get(name) ?? null
      if (base === null && contender === null) continue
      const resolution = name === 'read_back_delay' ? Math.max(b.readBackResolutionMs, c.readBackResolutionMs) : 0
      const verdict = judgeFact(base, contender, 'lower', practical, resolution)
      out.push(metric(name, {base, ci: null, changePercent: changeOf(base, contender), contender, note: verdict === 'not measured' ? 'not verified on one side' : 'one figure a run: compared as measured, no p-value', pValue: null, spreadPercent: null, test: verdict === 'not measured' ? null : 'exact', verdict}))
    }
  }

  if (b.bracket || c.bracket) out.push(compareBrackets(b, c, practical))
  return out
}

function compareBrackets(b: RunData, c: RunData, practical: number): MetricComparison {
  const base = b.level.get('max_sustainable') ?? null
  const contender = c.level.get('max_sustainable') ?? null
  if (!b.bracket || !c.bracket) return notMeasured('max_sustainable', base, contender, 'a capacity result on one side only')
  const width = (bracket: {low: number | null; high: number}) => (bracket.low && Number.isFinite(bracket.high) ? (bracket.high / bracket.low - 1) * 100 : null)
  const spreadPercent = maxSpread(width(b.bracket), width(c.bracket))
  const changePercent = changeOf(base, contender)
  const size = changePercent === null ? Number.POSITIVE_INFINITY : Math.abs(changePercent)
  let verdict: Verdict
  // Even the start rate failed on a side: its maximum lies below every rate tried.
  if (b.bracket.low === null && c.bracket.low === null) verdict = 'no change'
  else if (c.bracket.low === null) verdict = 'regressed'
  else if (b.bracket.low === null) verdict = 'improved'
  else if (c.bracket.high <= b.bracket.low && size >= practical) verdict = 'regressed'
  else if (b.bracket.high <= c.bracket.low && size >= practical) verdict = 'improved'
  else verdict = spreadPercent !== null && spreadPercent > practical ? 'unstable' : 'no change'
  return metric('max_sustainable', {
    base,
    ci: null,
    changePercent,
    contender,
    note: 'the highest rate that passed, below the lowest that failed: a change counts when the brackets do not overlap',
    pValue: null,
    spreadPercent,
    test: 'brackets',
    verdict,
  })
}

/** Several runs a side: each run's own figure is one sample. */
function compareRuns(bs: RunData[], cs: RunData[], options: CompareOptions, notes: string[]): MetricComparison[] {
  const practical = options.practicalPercent
  const out: MetricComparison[] = []
  const smallest = (n: number, m: number) => 2 / binomial(n + m, n)
  if (smallest(bs.length, cs.length) >= ALPHA) {
    notes.push(`with ${bs.length} and ${cs.length} runs the smallest possible p-value is ${smallest(bs.length, cs.length).toFixed(3)}, so no change can count: give at least 4 runs a side`)
  }

  for (const def of METRICS) {
    const xs = bs.map((r) => r.level.get(def.name) ?? null).filter((v): v is number => v !== null)
    const ys = cs.map((r) => r.level.get(def.name) ?? null).filter((v): v is number => v !== null)
    if (xs.length === 0 && ys.length === 0) continue
    if (xs.length === 0 || ys.length === 0) {
      out.push(notMeasured(def.name, xs.length > 0 ? median(xs) : null, ys.length > 0 ? median(ys) : null))
      continue
    }

    const base = median(xs)
    const contender = median(ys)
    const weightedMedian = (values: number[]) => (w: Float64Array) => {
      const drawn: number[] = []
      for (let i = 0; i < values.length; i++) for (let k = 0; k < w[i]; k++) drawn.push(values[i])
      return [drawn.length > 0 ? median(drawn) : null]
    }

    const [changes = []] = base === 0 ? [] : bootstrapChanges({blockLength: 1, n: xs.length, statistics: weightedMedian(xs)}, {blockLength: 1, n: ys.length, statistics: weightedMedian(ys)}, options)
    const fields = {
      base,
      ci: base === 0 ? null : percentileInterval(changes),
      changePercent: changeOf(base, contender),
      contender,
      pValue: mannWhitneyU(xs, ys).pValue,
      spreadPercent: maxSpread(relativeSpreadPercent(xs), relativeSpreadPercent(ys)),
      test: 'mann-whitney' as const,
    }
    out.push(metric(def.name, {...fields, verdict: judge({...fields, better: def.better}, practical)}))
  }

  return out
}

function binomial(n: number, k: number): number {
  let result = 1
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i
  return result
}

function sideSummary(runs: RunData[], mode: Comparison['mode']): SideSummary {
  const warmupIntervals = runs.reduce((sum, r) => sum + (r.window?.warmup ?? 0), 0)
  if (mode === 'runs') return {samples: {effective: runs.length, n: runs.length, unit: 'runs'}, warmupIntervals}
  const [run] = runs
  return {samples: {effective: Math.round(run.effective * 10) / 10, n: run.throughputs.length, unit: 'intervals'}, warmupIntervals}
}

/** Compare the runs of two sides (one or more documents each). */
export function compareResults(base: readonly ResultDoc[], contender: readonly ResultDoc[], options: CompareOptions): Comparison {
  if (base.length === 0 || contender.length === 0) throw new RangeError('compare needs at least one result a side')
  const bs = base.map((doc) => runData(doc))
  const cs = contender.map((doc) => runData(doc))
  const mode = bs.length === 1 && cs.length === 1 ? 'intervals' : 'runs'
  const notes: string[] = []
  const metrics = mode === 'intervals' ? compareIntervals(bs[0], cs[0], options, notes) : compareRuns(bs, cs, options, notes)
  const kinds = (docs: readonly ResultDoc[]) => [...new Set(docs.map((d) => d.kind))].join('/')
  if (kinds(base) !== kinds(contender) && (base.some(isCapacity) || contender.some(isCapacity))) {
    notes.push(`the base is a ${kinds(base)} result and the contender a ${kinds(contender)} one: only the metrics both have are judged`)
  }

  return {base: sideSummary(bs, mode), contender: sideSummary(cs, mode), metrics, mode, notes, practicalPercent: options.practicalPercent}
}
