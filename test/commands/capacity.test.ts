import {expect} from 'chai'
import {rmSync} from 'node:fs'
import path from 'node:path'

import type {CapacityResult} from '../../src/lib/capacity/result.js'

import {runCli, tempDir} from '../helpers.js'
import {startFifoTarget} from '../fixtures/targets/fifo.js'
import {startHttpTarget} from '../fixtures/targets/http-target.js'
import {childPids, isAlive, startCli} from '../lib/load/cli.js'

// Trials whose thirds are five intervals each: the backlog rule compares the thirds' medians, so one slow
// interval (an engine's merge, a busy neighbour) cannot read as a growing queue, as it can in thirds of two.
const SHORT = ['--trial', '4s', '--trial-warmup', '0.5s', '--interval', '250ms', '--batch-size', '500']

/** A target that takes everything at once. */
const startAcking = () => startHttpTarget({batch: ({logs}) => ({body: {accepted: logs.length}, status: 202})})

describe('logbench capacity', function () {
  this.timeout(120_000)

  describe('bad input exits 2 and names it', () => {
    const cases: [string, string[], RegExp][] = [
      ['--start above --max', ['--start', '20k', '--max', '10k'], /--start 20000 is above --max 10000/],
      ['a precision of 0', ['--precision', '0'], /--precision 0 must lie above 0% and below 100%/],
      ['a precision of 100%', ['--precision', '100%'], /--precision 100% must lie above 0% and below 100%/],
      ['an SLO naming an unknown metric', ['--slo', 'p98<=300ms'], /--slo "p98<=300ms": unknown metric "p98"/],
      ['a trial shorter than three intervals', ['--trial', '2s', '--interval', '1s'], /--trial 2s is shorter than three intervals of 1000 ms/],
      ['a loss SLO without verification', ['--slo', 'lost==0', '--no-verify'], /--slo lost==0 needs verification/],
    ]
    for (const [what, args, message] of cases) {
      it(what, async () => {
        // Nothing is started: the flags are refused first (the target does not exist).
        const human = await runCli(['capacity', '--target', 'http://127.0.0.1:1', ...args])
        expect(human.code, human.stderr).to.equal(2)
        expect(human.stderr).to.match(message)
        expect(human.stdout).to.equal('')
        const json = await runCli(['capacity', '--target', 'http://127.0.0.1:1', ...args, '--json'])
        expect(json.code).to.equal(2)
        expect(JSON.parse(json.stdout).error).to.include({exitCode: 2, kind: 'usage'})
        expect(JSON.parse(json.stdout).error.message).to.match(message)
      })
    }
  })

  it('exits 4 when even the start rate fails, saying so, with the curve', async () => {
    const fifo = await startFifoTarget(1000)
    try {
      const run = await runCli(['capacity', '--target', fifo.url, '--no-verify', '--workers', '1', '--start', '4000', ...SHORT, '--json'])
      expect(run.code, run.stderr).to.equal(4)
      const result = JSON.parse(run.stdout) as CapacityResult
      expect(result.outcome).to.equal('start-fails')
      // --no-verify was asked for: nothing to warn about.
      expect(run.stderr).to.equal('')
      expect(result.maxSustainable).to.deep.equal({aboveMax: false, limitedBy: ['backlog'], logsPerSecond: null, lowestFailingLogsPerSecond: 4000})
      expect(result.headline).to.equal('even the start rate fails: 4,000 logs/s, limited by backlog')
      expect(result.trials).to.have.length(1)
      expect(result.trials[0]).to.include({index: 1, offeredLogsPerSecond: 4000, phase: 'bracket', verdict: 'fail'})
    } finally {
      await fifo.stop()
    }
  })

  it('prints the search, the curve, why trials failed and the headline for people; progress on stderr', async () => {
    const target = await startAcking()
    try {
      // No store named, and the target is not a logbench serve: the search runs, and says durability is not judged.
      const run = await runCli(['capacity', '--target', target.url, '--workers', '1', '--start', '2000', '--max', '4000', ...SHORT])
      expect(run.code, run.stderr).to.equal(0)
      for (const text of ['Capacity search', 'Curve', 'offered (logs/s)', 'achieved (logs/s)', 'p50 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'errors (%)', 'lost', 'verdict', 'reasons']) {
        expect(run.stdout).to.include(text)
      }

      expect(run.stdout).to.match(/SLOs\s+error_rate<=0\.1% \(default\)/)
      expect(run.stdout).to.match(/durability\s+not verified: pass --clickhouse-url/)
      expect(run.stderr).to.match(/^warning: durability is not judged: not verified: pass --clickhouse-url/m)
      expect(run.stdout).to.match(/│\s+1 │ bracket │\s+2,000 │/)
      expect(run.stdout).to.match(/│\s+2 │ bracket │\s+4,000 │/)
      expect(run.stdout.trim().split('\n').at(-1)).to.equal('max sustainable: at least 4,000 logs/s (--max passed: the limit lies above it)')
      expect(run.stderr).to.match(/trial 1 \(bracket\): 2,000 logs\/s for 4.5 s…/)
      expect(run.stderr).to.match(/trial 2: pass, achieved [\d,]+ logs\/s, p99 [\d.,]+ ms/)
      expect(run.stderr).to.include('--max 4,000 logs/s passed: the limit lies above --max')
      expect(run.stdout).not.to.include('trial 1 (bracket)')
    } finally {
      await target.stop()
    }
  })

  it('zero set-up: one serve of its own over the embedded engine for the whole search, every trial verified under its own run id', async () => {
    const dir = tempDir('logbench-capacity-')
    try {
      const dataDir = path.join(dir, 'data')
      const run = await runCli(['capacity', '--data-dir', dataDir, '--start', '2000', '--max', '4000', '--slo', 'p99<=2s', ...SHORT, '--json'])
      expect(run.code, run.stderr).to.equal(0)
      const result = JSON.parse(run.stdout) as CapacityResult
      expect(result.kind).to.equal('capacity')
      const why = result.trials.map((t) => `${t.offeredLogsPerSecond} ${t.verdict}: ${t.evidence.map((e) => e.text).join('; ')}`).join('\n')
      expect(result.outcome, why).to.equal('above-max')
      expect(result.stack).to.match(/^serve on http:\/\/127\.0\.0\.1:\d+ → embedded ClickHouse /)
      expect(result.config.verify).to.equal(true)
      expect(result.config.slos).to.deep.equal([
        {expression: 'p99<=2s', implicit: false, reason: 'latency'},
        {expression: 'error_rate<=0.1%', implicit: true, reason: 'errors'},
        {expression: 'lost==0', implicit: true, reason: 'loss'},
        {expression: 'duplicated==0', implicit: true, reason: 'loss'},
      ])
      expect(result.trials.map((t) => [t.offeredLogsPerSecond, t.verdict, t.lost, t.duplicated])).to.deep.equal([
        [2000, 'pass', 0, 0],
        [4000, 'pass', 0, 0],
      ])
      // The --json shape.
      const trial = result.trials[0]
      expect(Object.keys(trial)).to.include.members(['index', 'offeredLogsPerSecond', 'achievedLogsPerSecond', 'latency', 'errorRate', 'lost', 'verdict', 'reasons', 'runId', 'phase', 'evidence', 'window', 'timeline'])
      expect(Object.keys(trial.latency).sort()).to.deep.equal(['maxMs', 'p50Ms', 'p90Ms', 'p999Ms', 'p99Ms'])
      expect(result.maxSustainable).to.deep.equal({aboveMax: true, limitedBy: [], logsPerSecond: 4000, lowestFailingLogsPerSecond: null})
      // Both trials went to one serve and one table, each under its own run id.
      const total = await runCli(['analyze', 'total', '--data-dir', dataDir, '--json'])
      expect(total.code, total.stderr).to.equal(0)
      expect(JSON.parse(total.stdout).reports.total.runs).to.equal(2)
      for (const t of result.trials) {
        const perRun = await runCli(['analyze', 'total', '--data-dir', dataDir, '--run-id', t.runId, '--json'])
        expect(JSON.parse(perRun.stdout).reports.total.logs, t.runId).to.be.at.least(t.window.logs.acked)
      }
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  it('Ctrl+C prints the curve so far, leaves no worker behind and exits 130', async () => {
    const target = await startAcking()
    try {
      const cli = startCli(['capacity', '--target', target.url, '--no-verify', '--workers', '2', '--start', '2000', '--trial', '5s', '--trial-warmup', '0s', '--interval', '250ms', '--batch-size', '500'])
      await cli.waitFor(/trial 1: pass/)
      await cli.waitFor(/trial 2 \(bracket\)/)
      // Trial 2's workers are sending.
      const before = target.received.batches
      while (target.received.batches === before) await new Promise((resolve) => setTimeout(resolve, 50))
      const workers = childPids(cli.child.pid!)
      cli.child.kill('SIGINT')
      const result = await cli.done
      expect(result.code, result.stderr).to.equal(130)
      expect(result.stdout).to.match(/│\s+1 │ bracket │\s+2,000 │/)
      expect(result.stdout).not.to.match(/│\s+2 │ bracket │/)
      expect(result.stdout).to.include('interrupted during trial 2 at 4,000 logs/s: that trial is not judged')
      expect(result.stdout.trim().split('\n').at(-1)).to.equal('interrupted: max sustainable so far at least 2,000 logs/s')
      for (const pid of workers) expect(isAlive(pid), `worker ${pid}`).to.equal(false)
    } finally {
      await target.stop()
    }
  })
})
