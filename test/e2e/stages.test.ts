/**
 * Load shapes end to end: `run` and `parallel` with --stage and --warmup against a target that
 * answers at once, so every stage can keep its schedule. Each stage's figures come from its own
 * counters and histogram; the warm-up is verified but left out of throughput and latency.
 */
import {expect} from 'chai'

import type {AggregateResult, RunResult} from '../../src/lib/load/result/types.js'
import type {StageResult} from '../../src/lib/load/measure/stages.js'

import {renderHtmlReport} from '../../src/lib/report/html/report.js'
import {runCli} from '../helpers.js'
import {type Sink, startSink} from '../lib/load/sink.js'

const SHAPE = ['--warmup', '1s', '--start-rate', '2000', '--stage', '2s:4000', '--stage', '2s:4000', '--batch-size', '100', '--interval', '500ms']
/** What the schedule makes due: the warm-up at 2,000/s for 1 s, the ramp 2,000 → 4,000 over 2 s, the hold at 4,000 for 2 s. */
const DUE = [2000, 6000, 8000]

function expectShape(stages: StageResult[], scale = 1): void {
  expect(stages.map(({endMs, fromLogsPerSecond, index, kind, startMs, targetLogsPerSecond}) => ({endMs, fromLogsPerSecond, index, kind, startMs, targetLogsPerSecond}))).to.deep.equal([
    {endMs: 1000, fromLogsPerSecond: 2000 * scale, index: -1, kind: 'warmup', startMs: 0, targetLogsPerSecond: 2000 * scale},
    {endMs: 3000, fromLogsPerSecond: 2000 * scale, index: 0, kind: 'stage', startMs: 1000, targetLogsPerSecond: 4000 * scale},
    {endMs: 5000, fromLogsPerSecond: 4000 * scale, index: 1, kind: 'stage', startMs: 3000, targetLogsPerSecond: 4000 * scale},
  ])
  for (const [i, stage] of stages.entries()) {
    expect(stage.intended, `stage ${i} due`).to.equal(DUE[i])
    // Batches go out when their first log is due, so a stage's sends match its schedule to a batch.
    expect(Math.abs(stage.logs.sent - stage.intended), `stage ${i}: ${stage.logs.sent} sent`).to.be.at.most(100 * scale)
    expect(stage.logs.acked).to.equal(stage.logs.sent)
    // The achieved rate is the stage's own acknowledged logs over its own length, so it is off the
    // schedule's by at most the one batch its sends may be off (100 logs is 5% of a 1 s warm-up at 2,000/s).
    const seconds = (stage.endMs - stage.startMs) / 1000
    expect(stage.achievedLogsPerSecond).to.be.closeTo(stage.logs.acked / seconds, 0.05)
    expect(Math.abs(stage.logs.acked - stage.intended), `stage ${i}: ${stage.achievedLogsPerSecond} logs/s against ${stage.intended / seconds}`).to.be.at.most(100 * scale)
    expect(stage.generatorLimited).to.equal(false)
    expect(stage.latency.count).to.be.greaterThan(0)
  }
}

describe('load shapes: --stage and --warmup', function () {
  this.timeout(120_000)
  let sink: Sink

  beforeEach(async () => {
    sink = await startSink()
  })

  afterEach(async () => {
    await sink.stop()
  })

  it('run: one result per stage from its own histogram, the warm-up first, excluded from throughput and latency', async () => {
    const run = await runCli(['run', '--target', sink.url, '--no-verify', '--json', ...SHAPE])
    expect(run.code, run.stderr).to.equal(0)
    const result = JSON.parse(run.stdout) as RunResult
    expectShape(result.stages!)
    expect(result.config).to.deep.include({model: 'open', startRate: 2000, warmupMs: 1000})
    expect(result.config.stages).to.deep.equal([
      {durationMs: 2000, rate: 4000},
      {durationMs: 2000, rate: 4000},
    ])
    const [warmup, ...measured] = result.stages!
    // Every log is counted (and would be verified); only the measured part makes the throughput and latency.
    expect(result.logs.acked).to.equal(sink.ackedLogs)
    expect(result.logs.acked).to.equal(result.stages!.reduce((sum, s) => sum + s.logs.acked, 0))
    expect(result.warmup).to.deep.equal({acked: warmup.logs.acked, durationMs: 1000})
    expect(result.latency.count).to.equal(measured.reduce((sum, s) => sum + s.latency.count, 0))
    const measuredAcked = measured.reduce((sum, s) => sum + s.logs.acked, 0)
    expect(result.throughput.logsPerSecond).to.be.closeTo((measuredAcked * 1000) / (result.durationMs - 1000), 1)
    // Generator fidelity per interval: the intended logs add up to the schedule's.
    const intended = result.timeline!.intervals.reduce((sum, i) => sum + (i.intended ?? 0), 0)
    expect(intended).to.be.closeTo(16_000, 1)
    // The HTML report draws the target rate over the throughput and marks the stages.
    const html = renderHtmlReport(result)
    expect(html).to.include('data-series="target rate"').and.include('data-marker="warm-up"').and.include('data-marker="stage 2"').and.include('data-section="stages"')
  })

  it('parallel: the stages of the workers merge exactly, rates split and added up again', async () => {
    const run = await runCli(['parallel', '--workers', '2', '--target', sink.url, '--no-verify', '--json', ...SHAPE])
    expect(run.code, run.stderr).to.equal(0)
    const result = JSON.parse(run.stdout) as AggregateResult
    const workers = result.workers.map((w) => w.result!)
    expect(workers.map((w) => w.config.stages!.map((s) => s.rate))).to.deep.equal([
      [2000, 2000],
      [2000, 2000],
    ])
    for (const [i, stage] of result.stages!.entries()) {
      const parts = workers.map((w) => w.stages![i])
      expect(stage.logs).to.deep.equal({
        acked: parts.reduce((sum, s) => sum + s.logs.acked, 0),
        failed: parts.reduce((sum, s) => sum + s.logs.failed, 0),
        sent: parts.reduce((sum, s) => sum + s.logs.sent, 0),
      })
      expect(stage.intended).to.equal(parts.reduce((sum, s) => sum + s.intended, 0))
      expect(stage.latency.count).to.equal(parts.reduce((sum, s) => sum + s.latency.count, 0))
      expect(stage.targetLogsPerSecond).to.equal(parts.reduce((sum, s) => sum + s.targetLogsPerSecond, 0))
    }

    expect(result.stages!.map((s) => s.intended)).to.deep.equal(DUE)
    expect(result.warmup!.acked).to.equal(workers.reduce((sum, w) => sum + w.warmup!.acked, 0))
    expect(result.config.stages).to.deep.equal([
      {durationMs: 2000, rate: 4000},
      {durationMs: 2000, rate: 4000},
    ])
  })

  it('the terminal report has a table of the stages', async () => {
    const run = await runCli(['run', '--target', sink.url, '--no-verify', ...SHAPE])
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.include('Stages').and.include('warm-up').and.include('2,000 → 4,000').and.include('not measured')
  })

  it('bad shapes exit 2 and name the value', async () => {
    for (const [args, message] of [
      [['--stage', '30s:-5'], '--stage "30s:-5": the rate "-5" is not a rate'],
      [['--stage', '1s:10', '--concurrency', '4'], '--stage and --concurrency cannot be used together'],
      [['--warmup', '5s'], '--warmup needs a rate'],
    ] as const) {
      const run = await runCli(['run', '--target', sink.url, '--no-verify', ...args])
      expect(run.code, run.stderr).to.equal(2)
      expect(run.stderr).to.include(message)
    }
  })
})
