import {expect} from 'chai'

import {compareResults, judge, judgeFact, type MetricComparison} from '../../../src/lib/history/compare/compare.js'
import {configDifferences} from '../../../src/lib/history/compare/differences.js'
import {parseGate, regressionsOf, unjudgedGates} from '../../../src/lib/history/compare/gate.js'
import {steadyWindow} from '../../../src/lib/history/compare/steady.js'
import {seededRandom} from '../../../src/lib/history/stats/random.js'
import {expectUsageError} from '../../helpers.js'
import {around, capacityResult, syntheticRun} from './docs.js'

const options = (seed = 1) => ({practicalPercent: 5, random: seededRandom(seed), replicates: 1000})
const byName = (metrics: MetricComparison[]) => Object.fromEntries(metrics.map((m) => [m.name, m]))

describe('compare: statistics on runs of known difference', () => {
  it('never flags two runs drawn from the same distributions (20 pairs)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const a = syntheticRun({batches: (_, r) => 95 + Math.floor(r() * 11), seed: seed * 2})
      const b = syntheticRun({batches: (_, r) => 95 + Math.floor(r() * 11), seed: seed * 2 + 1})
      const comparison = compareResults([a], [b], options(seed))
      for (const m of comparison.metrics) {
        // 1,800 batches hold one latency beyond p99.9: too few to judge it.
        expect(m.verdict, `pair ${seed}: ${m.name} ${m.changePercent?.toFixed(2)}% p=${m.pValue}`).to.equal(m.name === 'p99.9' ? 'unstable' : 'no change')
      }
    }
  })

  it('judges a percentile only with enough latencies beyond it', () => {
    const few = byName(compareResults([syntheticRun({seed: 1})], [syntheticRun({latency: around(40), seed: 2})], options()).metrics)
    expect(few['p99.9'].verdict).to.equal('unstable')
    expect(few['p99.9'].pValue).to.equal(null)
    expect(few['p99.9'].note).to.equal('too few latencies beyond p99.9 to judge it (1 on a side, 5 needed: at least 5,000 batches in the steady intervals); run longer, or with smaller batches')
    expect(few.p99.verdict).to.equal('regressed')
    const many = byName(compareResults([syntheticRun({batches: 400, seed: 1})], [syntheticRun({batches: 400, latency: around(40), seed: 2})], options()).metrics)
    expect(many['p99.9'].verdict).to.equal('regressed')
    expect(many['p99.9'].test).to.equal('bootstrap')
  })

  it('flags a p99 that rose by half as regressed, with a confidence interval above zero', () => {
    const base = syntheticRun({latency: around(20), seed: 1})
    const slow = syntheticRun({latency: (r) => (r() < 0.05 ? 45 : 20 * (1 + (r() - 0.5) * 0.1)), seed: 2})
    const m = byName(compareResults([base], [slow], options()).metrics)
    expect(m.p99.verdict).to.equal('regressed')
    expect(m.p99.test).to.equal('bootstrap')
    expect(m.p99.pValue).to.be.below(0.01)
    expect(m.p99.changePercent).to.be.within(90, 140)
    expect(m.p99.ci![0]).to.be.above(5)
    // The median barely moved.
    expect(m.p50.verdict).to.equal('no change')
    expect(m.throughput.verdict).to.equal('no change')
  })

  it('flags a throughput that fell by a fifth as regressed by Mann–Whitney U', () => {
    const base = syntheticRun({batches: (_, r) => 95 + Math.floor(r() * 11), seed: 3})
    const fewer = syntheticRun({batches: (_, r) => 76 + Math.floor(r() * 8), seed: 4})
    const m = byName(compareResults([base], [fewer], options()).metrics).throughput
    expect(m.test).to.equal('mann-whitney')
    expect(m.verdict).to.equal('regressed')
    expect(m.pValue).to.be.below(0.001)
    expect(m.changePercent).to.be.closeTo(-20, 3)
    expect(m.ci![1]).to.be.below(-10)
    // The other way round it is an improvement.
    expect(byName(compareResults([fewer], [base], options()).metrics).throughput.verdict).to.equal('improved')
  })

  it('calls a noisy latency unstable, not regressed, even where the change is significant but inside its own spread', () => {
    // Most answers at 20 ms, now and then one of 200-1000 ms: each interval's p99 swings.
    const noisy = (r: () => number) => (r() < 0.03 ? 200 + r() * 800 : 20 * (1 + (r() - 0.5) * 0.1))
    let unstable = 0
    for (let seed = 1; seed <= 10; seed++) {
      const m = byName(compareResults([syntheticRun({batches: 40, latency: noisy, seed: seed * 2})], [syntheticRun({batches: 40, latency: noisy, seed: seed * 2 + 1})], options(seed)).metrics)
      expect(m.p99.verdict, `pair ${seed}: ${m.p99.changePercent}% p=${m.p99.pValue} spread=${m.p99.spreadPercent}`).to.not.be.oneOf(['regressed', 'improved'])
      expect(m.p99.spreadPercent).to.be.above(5)
      if (m.p99.verdict === 'unstable') unstable++
      expect(m.p50.verdict).to.equal('no change')
    }

    expect(unstable).to.equal(10)
  })

  it('judges: significance, the practical threshold and the spread all needed; unstable when the spread is wider', () => {
    const m = {base: 100, better: 'lower' as const, changePercent: 10, contender: 110, pValue: 0.01, spreadPercent: 2}
    expect(judge(m, 5)).to.equal('regressed')
    expect(judge({...m, pValue: 0.2}, 5)).to.equal('no change')
    expect(judge({...m, changePercent: 4, contender: 104}, 5)).to.equal('no change')
    expect(judge({...m, spreadPercent: 30}, 5)).to.equal('unstable')
    // A change beyond the noise still counts.
    expect(judge({...m, changePercent: 50, contender: 150, spreadPercent: 30}, 5)).to.equal('regressed')
    expect(judge({...m, better: 'higher'}, 5)).to.equal('improved')
    expect(judge({...m, base: 0, changePercent: null, contender: 0.01}, 5)).to.equal('regressed')
    expect(judge({...m, contender: null}, 5)).to.equal('not measured')
    expect(judgeFact(0, 12, 'lower', 5)).to.equal('regressed')
    expect(judgeFact(12, 0, 'lower', 5)).to.equal('improved')
    expect(judgeFact(100, 103, 'lower', 5)).to.equal('no change')
    expect(judgeFact(100, 400, 'lower', 5, 500)).to.equal('no change')
    expect(judgeFact(null, 3, 'lower', 5)).to.equal('not measured')
  })

  it('judges the error rate from per-interval rates, from zero too', () => {
    const clean = syntheticRun({seed: 5})
    const failing = syntheticRun({failRate: 0.02, seed: 6})
    const m = byName(compareResults([clean], [failing], options()).metrics).error_rate
    expect(m.base).to.equal(0)
    expect(m.contender).to.be.closeTo(0.02, 0.001)
    expect(m.changePercent).to.equal(null)
    expect(m.verdict).to.equal('regressed')
    expect(byName(compareResults([clean], [syntheticRun({seed: 7})], options()).metrics).error_rate.verdict).to.equal('no change')
  })

  it('compares lost logs and the read-back delay as measured, and leaves them out when neither side verified', () => {
    const verified = (missing: number, delay: number) => ({missing, ok: missing === 0, pollMs: 100, readBackDelayMs: delay, store: 'x'})
    const a = syntheticRun({seed: 8, verification: verified(0, 200)})
    const b = syntheticRun({seed: 9, verification: verified(40, 250)})
    const m = byName(compareResults([a], [b], options()).metrics)
    expect(m.lost.verdict).to.equal('regressed')
    expect(m.lost.test).to.equal('exact')
    expect(m.lost.pValue).to.equal(null)
    // 50 ms more is within the verification's 100 ms polling.
    expect(m.read_back_delay.verdict).to.equal('no change')
    const none = byName(compareResults([syntheticRun({seed: 10})], [syntheticRun({seed: 11})], options()).metrics)
    expect(none.lost).to.equal(undefined)
    expect(byName(compareResults([a], [syntheticRun({seed: 11})], options()).metrics).lost.verdict).to.equal('not measured')
  })

  it('needs enough steady intervals: a short run is unstable, with a note', () => {
    const comparison = compareResults([syntheticRun({intervals: 4, seed: 1})], [syntheticRun({intervals: 20, seed: 2})], options())
    expect(comparison.notes.join(' ')).to.match(/too few steady intervals .*2 in the base/)
    expect(byName(comparison.metrics).throughput.verdict).to.equal('unstable')
    expect(byName(comparison.metrics).p99.verdict).to.equal('unstable')
  })

  it('prints the effective sample size: correlated intervals are worth fewer', () => {
    let level = 0
    const drifting = syntheticRun({batches: (_, r) => Math.round(100 + (level = 0.85 * level + (r() - 0.5) * 20)), intervals: 60, seed: 12})
    const comparison = compareResults([drifting], [syntheticRun({intervals: 60, seed: 13})], options())
    expect(comparison.mode).to.equal('intervals')
    expect(comparison.base.samples.unit).to.equal('intervals')
    expect(comparison.base.samples.n).to.equal(58)
    expect(comparison.base.samples.effective).to.be.below(30)
    expect(comparison.contender.samples.effective).to.be.above(40)
  })

  it('is deterministic for a seed', () => {
    const a = syntheticRun({seed: 20})
    const b = syntheticRun({latency: around(22), seed: 21})
    expect(compareResults([a], [b], options(5))).to.deep.equal(compareResults([a], [b], options(5)))
  })
})

describe('compare: several runs a side', () => {
  it('uses the run-level figures, Mann–Whitney U exact', () => {
    const side = (first: number, ms: number) => Array.from({length: 5}, (_, i) => syntheticRun({latency: around(ms), seed: first + i}))
    const comparison = compareResults(side(100, 20), side(200, 30), options())
    expect(comparison.mode).to.equal('runs')
    expect(comparison.base.samples).to.deep.equal({effective: 5, n: 5, unit: 'runs'})
    const m = byName(comparison.metrics)
    expect(m.p50.verdict).to.equal('regressed')
    // 5 against 5, all apart: 2/252 exactly without ties, about 0.011 with them (the normal approximation).
    expect(m.p50.pValue).to.be.below(0.012)
    expect(m.p50.changePercent).to.be.closeTo(50, 3)
    expect(m.throughput.verdict).to.equal('no change')
  })

  it('says when too few runs can never reach significance', () => {
    const side = (first: number) => Array.from({length: 3}, (_, i) => syntheticRun({seed: first + i}))
    const comparison = compareResults(side(300), side(400), options())
    expect(comparison.notes.join(' ')).to.match(/smallest possible p-value is 0\.100/)
  })
})

describe('compare: warm-up and steady intervals', () => {
  it('leaves out the warm-up stage, then the first and last interval', () => {
    const start = Date.parse('2025-03-01T10:00:00Z')
    const doc = syntheticRun({intervals: 12, seed: 1, stages: [{endMs: 3000, kind: 'warmup', startMs: 0}, {endMs: 12_000, kind: 'stage', startMs: 3000}], startMs: start})
    const window = steadyWindow(doc)
    expect(window.warmup).to.equal(3)
    expect(window.edges).to.equal(2)
    expect(window.intervals.map((i) => (i.at - start) / 1000)).to.deep.equal([4, 5, 6, 7, 8, 9, 10])
    // Epoch times work too, and marked intervals are left out.
    const epoch = syntheticRun({intervals: 12, seed: 1, stages: [{endMs: start + 2000, kind: 'warmup', startMs: start}], startMs: start})
    expect(steadyWindow(epoch).warmup).to.equal(2)
    const marked = syntheticRun({intervals: 12, seed: 1, startMs: start})
    ;(marked.timeline!.intervals[0] as {warmup?: boolean}).warmup = true
    expect(steadyWindow(marked).warmup).to.equal(1)
    expect(steadyWindow(marked).intervals[0].at).to.equal(start + 2000)
  })

  it('leaves out the pipeline filling up and draining: before the first acknowledgement, after the last send', () => {
    const start = Date.parse('2025-03-01T10:00:00Z')
    const doc = syntheticRun({intervals: 12, seed: 1, startMs: start})
    for (const i of doc.timeline!.intervals.slice(0, 3)) Object.assign(i, {acked: 0, histogram: '', latency: {count: 0, maxMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0}})
    for (const i of doc.timeline!.intervals.slice(10)) Object.assign(i, {sent: 0})
    const window = steadyWindow(doc)
    expect(window.filling).to.equal(5)
    expect(window.intervals.map((i) => (i.at - start) / 1000)).to.deep.equal([4, 5, 6, 7, 8])
  })

  it('a warm-up that is much slower does not count against the run', () => {
    const slowStart = (r: () => number, i: number) => (i < 4 ? 200 : 20) * (1 + (r() - 0.5) * 0.1)
    const warm = syntheticRun({latency: slowStart, seed: 2, stages: [{endMs: 4000, kind: 'warmup', startMs: 0}]})
    const m = byName(compareResults([syntheticRun({seed: 3})], [warm], options()).metrics)
    expect(m.p99.verdict).to.equal('no change')
  })
})

describe('compare: capacity results', () => {
  it('compares the maximum sustainable rate by its brackets', () => {
    // Bracketed by doubling, bisected geometrically to 5%.
    const base = capacityResult(10_000, [[2500, 'pass'], [5000, 'pass'], [10_000, 'pass'], [20_000, 'fail'], [14_142, 'fail'], [11_892, 'fail'], [10_905, 'fail'], [10_443, 'fail'], [10_000, 'pass']])
    const same = capacityResult(10_200, [[2500, 'pass'], [5000, 'pass'], [10_000, 'pass'], [20_000, 'fail'], [14_142, 'fail'], [11_892, 'fail'], [10_905, 'fail'], [10_443, 'fail'], [10_200, 'pass']])
    const lower = capacityResult(6000, [[2500, 'pass'], [5000, 'pass'], [10_000, 'fail'], [7071, 'fail'], [5946, 'pass'], [6484, 'fail'], [6211, 'fail'], [6000, 'pass']])
    const wide = capacityResult(10_000, [[10_000, 'pass'], [20_000, 'fail']])
    const m = (a: typeof base, b: typeof base) => byName(compareResults([a], [b], options()).metrics).max_sustainable
    expect(m(base, same).verdict).to.equal('no change')
    // A coarse bracket (10,000 passed, 20,000 failed) cannot tell: unstable.
    expect(m(base, wide).verdict).to.equal('unstable')
    expect(m(base, wide).spreadPercent).to.equal(100)
    expect(m(base, lower).verdict).to.equal('regressed')
    expect(m(base, lower).changePercent).to.be.closeTo(-40, 1e-9)
    expect(m(base, lower).test).to.equal('brackets')
    expect(m(lower, base).verdict).to.equal('improved')
    // Even the start rate failed.
    expect(m(base, capacityResult(null, [[2500, 'fail']])).verdict).to.equal('regressed')
    // Only the maximum is judged between capacity results.
    expect(compareResults([base], [lower], options()).metrics.map((x) => x.name)).to.deep.equal(['max_sustainable'])
  })

  it('notes a capacity result compared with a load run', () => {
    const comparison = compareResults([capacityResult(1000, [])], [syntheticRun({seed: 1})], options())
    expect(comparison.notes.join(' ')).to.match(/capacity result and the contender a run/)
    expect(byName(comparison.metrics).max_sustainable.verdict).to.equal('not measured')
  })
})

describe('compare: --fail-on gates', () => {
  it('parses METRIC:±PERCENT, the sign optional', () => {
    expect(parseGate('p99:+10%')).to.deep.equal({expression: 'p99:+10%', limitPercent: 10, metric: 'p99'})
    expect(parseGate('throughput:-5%')).to.include({limitPercent: 5, metric: 'throughput'})
    expect(parseGate('p999:25')).to.include({limitPercent: 25, metric: 'p99.9'})
    expect(parseGate('readback:50%').metric).to.equal('read_back_delay')
    expectUsageError(() => parseGate('latency:+10%'), /unknown metric "latency"/)
    expectUsageError(() => parseGate('p99>10%'), /not METRIC:±PERCENT/)
    expectUsageError(() => parseGate('throughput:+10%'), /throughput regresses when it falls/)
    expectUsageError(() => parseGate('p99:-10%'), /p99 regresses when it rises/)
  })

  it('fails a gate only on a significant regression larger than its limit', () => {
    const base = syntheticRun({latency: around(20), seed: 1})
    const slow = syntheticRun({latency: around(30), seed: 2})
    const comparison = compareResults([base], [slow], options())
    expect(byName(comparison.metrics).p99.verdict).to.equal('regressed')
    const regressions = regressionsOf(comparison, [parseGate('p99:+25%'), parseGate('p50:+80%'), parseGate('throughput:-1%')])
    expect(regressions.map((r) => r.gate)).to.deep.equal(['p99:+25%'])
    expect(regressions[0].changePercent).to.be.within(40, 60)
    expect(unjudgedGates(comparison, [parseGate('lost:0%'), parseGate('p99:1%')]).map((g) => g.expression)).to.deep.equal(['lost:0%'])
  })
})

describe('compare: configuration differences', () => {
  it('names each field that differs, and facts only when both sides know them', () => {
    const a = syntheticRun({seed: 1})
    const b = syntheticRun({config: {batchSize: 500, model: 'open', rate: 20_000, target: 'http://user:secret@other:3000/api/logs/batch'}, logsPerBatch: 500, seed: 2})
    const diffs = configDifferences({result: a}, {result: b})
    expect(diffs.map((d) => d.field)).to.deep.equal(['target', 'batch size', 'model', 'rate', 'concurrency'])
    expect(diffs[0].contender).to.equal('http://other:3000/api/logs/batch')
    expect(diffs.find((d) => d.field === 'rate')!.contender).to.equal('20,000 logs/s')
    const record = (version: string) => ({clickhouse: {table: 'logs_db.logs', version}, host: {cores: 2, cpuModel: 'cpu', name: 'h', node: 'v24', platform: 'linux-x64'}, logbenchVersion: '0.1.0'}) as never
    expect(configDifferences({record: record('18.16.1'), result: a}, {record: record('24.8.1'), result: a})).to.deep.equal([{base: '18.16.1', contender: '24.8.1', field: 'ClickHouse version'}])
    // A result file does not say which server it ran against: not a difference.
    expect(configDifferences({record: record('18.16.1'), result: a}, {result: a})).to.deep.equal([])
  })
})
