/**
 * `logbench capacity` against targets of known capacity, started by the tests
 * themselves: a FIFO server that works C logs a second, a pipeline that
 * acknowledges everything but stores only R logs a second (into the suite's
 * ClickHouse server, and into the embedded engine), a target that answers 503
 * above a rate, and a generator held back on purpose. The rates are far below
 * what the generator can do on two shared cores, so the result holds on a
 * loaded machine; the tests assert the interval the maximum must lie in, never
 * a time. Trials are short (4 s after 0.5 s of warm-up, 250 ms intervals: thirds of five intervals, so
 * a stall or two from a busy neighbour does not read as a queue that grows), and every search starts
 * at a quarter of the known capacity, so doubling reaches it in two steps.
 */
import {expect} from 'chai'
import path from 'node:path'

import type {CapacityResult} from '../../src/lib/capacity/result.js'
import type {Store} from '../../src/lib/store/index.js'

import {backends, repoRoot, runCli, serverUrl, storeOrSkip, uniqueDatabase} from '../helpers.js'
import {startFifoTarget} from '../fixtures/targets/fifo.js'
import {startHttpTarget} from '../fixtures/targets/http-target.js'
import {startLimitedTarget} from '../fixtures/targets/limited.js'
import {startLossyTarget} from '../fixtures/targets/lossy.js'

const SHORT = ['--trial', '4s', '--trial-warmup', '0.5s', '--interval', '250ms', '--batch-size', '500']

async function capacity(args: string[], env?: NodeJS.ProcessEnv): Promise<{code: number | null; result: CapacityResult; stderr: string}> {
  const run = await runCli(['capacity', ...SHORT, ...args, '--json'], {env, timeoutMs: 170_000})
  let result: CapacityResult
  try {
    result = JSON.parse(run.stdout)
  } catch {
    throw new Error(`capacity printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`)
  }

  return {code: run.code, result, stderr: run.stderr}
}

/** The curve in one line a trial, for failure messages. */
const curve = (result: CapacityResult, stderr = '') =>
  `${stderr}${result.headline}\n${result.trials.map((t) => `${t.index} ${t.phase} ${t.offeredLogsPerSecond}: ${t.verdict} ${t.evidence.map((e) => `${e.reason}: ${e.text}`).join('; ')}`).join('\n')}\n${result.notes.join('\n')}`

/** The search's own rules, whatever the target: the maximum passed, lies strictly below every failure, and was confirmed. */
function expectConsistent(result: CapacityResult): void {
  const max = result.maxSustainable.logsPerSecond!
  const failing = result.trials.filter((t) => t.verdict === 'fail').map((t) => t.offeredLogsPerSecond)
  expect(result.trials.some((t) => t.verdict === 'pass' && t.offeredLogsPerSecond === max)).to.equal(true)
  expect(Math.min(...failing)).to.equal(result.maxSustainable.lowestFailingLogsPerSecond)
  expect(failing.every((rate) => rate > max)).to.equal(true)
  expect(result.maxSustainable.lowestFailingLogsPerSecond! / max - 1).to.be.below(result.config.precision)
  const last = result.trials.at(-1)!
  expect([last.phase, last.offeredLogsPerSecond, last.verdict]).to.deep.equal(['confirm', max, 'pass'])
  expect(result.trials.map((t) => t.index)).to.deep.equal(result.trials.map((_, i) => i + 1))
  expect(new Set(result.trials.map((t) => t.runId)).size).to.equal(result.trials.length)
}

describe('e2e: logbench capacity against targets of known capacity', function () {
  this.timeout(180_000)

  it('a FIFO server working C = 20,000 logs/s: the maximum lies in [0.8 C, C], limited by backlog', async () => {
    const C = 20_000
    const fifo = await startFifoTarget(C)
    try {
      // From C / 4, doubling reaches C exactly; above it the queue grows without bound.
      const {code, result, stderr} = await capacity(['--target', fifo.url, '--no-verify', '--workers', '2', '--start', String(C / 4)])
      expect(code, curve(result, stderr)).to.equal(0)
      expect(result.outcome).to.equal('found')
      expect(result.maxSustainable.logsPerSecond, curve(result)).to.be.within(0.8 * C, C)
      expect(result.maxSustainable.limitedBy).to.include('backlog')
      expectConsistent(result)
      // Every trial above C failed, each naming its reason with the figures.
      for (const trial of result.trials.filter((t) => t.offeredLogsPerSecond > C)) {
        expect(trial.verdict, `trial at ${trial.offeredLogsPerSecond}\n${curve(result)}`).to.equal('fail')
        expect(trial.evidence.length).to.be.greaterThan(0)
      }

      expect(result.config).to.include({batchSize: 500, intervalMs: 250, precision: 0.05, startLogsPerSecond: 5000, trialMs: 4000, verify: false, warmupMs: 500, workers: 2})
      expect(result.headline).to.match(/^max sustainable: [\d,]+ logs\/s \(±5%\), limited by .*backlog/)
      expect(fifo.received.logs).to.be.greaterThan(0)
    } finally {
      await fifo.stop()
    }
  })

  for (const backend of backends) {
    it(`a pipeline that acknowledges everything but stores R = 10,000 logs/s (${backend.name}): the maximum is about R, limited by loss`, async function () {
      const R = 10_000
      const database = uniqueDatabase('lbcap')
      const store: Store = await storeOrSkip(this, backend, database)
      // Into the server, the run verifies in the table; the embedded engine is held here, so it verifies through the target, as through a serve.
      const lossy = await startLossyTarget({logsPerSecond: R, store, verifyRoute: backend.name === 'embedded'})
      try {
        const where = backend.name === 'server' ? ['--clickhouse-url', serverUrl()!, '--database', database] : []
        const {code, result, stderr} = await capacity(['--target', lossy.url, ...where, '--verify-wait', '1s', '--workers', '2', '--start', String(R / 4), '--precision', '10%', '--slo', 'lost==0'])
        expect(code, curve(result, stderr)).to.equal(0)
        expect(result.outcome).to.equal('found')
        expect(result.config.verify).to.equal(true)
        expect(result.maxSustainable.logsPerSecond, curve(result)).to.be.within(0.8 * R, 1.05 * R)
        expect(result.maxSustainable.limitedBy).to.include('loss')
        expectConsistent(result)
        // Failing trials lost logs although the target acknowledged all it was offered: no failure, and the whole rate acknowledged.
        const failing = result.trials.filter((t) => t.verdict === 'fail')
        for (const trial of failing) {
          expect(trial.reasons).to.include('loss')
          expect(trial.lost).to.be.greaterThan(0)
          expect(trial.errorRate).to.equal(0)
          expect(trial.window.logs.failed).to.equal(0)
          expect(trial.achievedLogsPerSecond).to.be.greaterThan(0.9 * trial.offeredLogsPerSecond)
        }

        expect(lossy.dropped).to.be.greaterThan(0)
        for (const trial of result.trials.filter((t) => t.verdict === 'pass')) expect([trial.lost, trial.duplicated]).to.deep.equal([0, 0])
        // The store holds exactly what the target kept, trial by trial.
        const [row] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`)
        await lossy.stop()
        const [after] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`)
        expect(Number(after.n)).to.equal(lossy.stored)
        expect(Number(row.n)).to.be.at.most(lossy.stored)
      } finally {
        await lossy.stop()
        if (backend.name === 'server') await store.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => {})
        await store.close()
      }
    })
  }

  it('a target that answers 503 above E = 10,000 logs/s: limited by errors', async () => {
    const E = 10_000
    const limited = await startLimitedTarget(E)
    try {
      const {code, result, stderr} = await capacity(['--target', limited.url, '--no-verify', '--retries', '0', '--workers', '1', '--start', String(E / 4), '--precision', '10%', '--slo', 'error_rate<=0.1%'])
      expect(code, curve(result, stderr)).to.equal(0)
      expect(result.outcome).to.equal('found')
      expect(result.maxSustainable.logsPerSecond, curve(result)).to.be.within(0.8 * E, E)
      expect(result.maxSustainable.limitedBy).to.include('errors')
      expectConsistent(result)
      for (const trial of result.trials.filter((t) => t.verdict === 'fail')) {
        expect(trial.reasons).to.include('errors')
        expect(trial.errorRate).to.be.greaterThan(0.001)
      }

      expect(limited.refused.batches).to.be.greaterThan(0)
    } finally {
      await limited.stop()
    }
  })
  // The generator check reads the timeline: logs the schedule made due per interval against those sent, and batches that waited for a free in-flight slot.
  // The generator check reads the timeline's `intended` and `slotWaits` per interval (logs the
  it('a generator held back on purpose: inconclusive, generator, and the search stops saying to add workers', async () => {
    const target = await startHttpTarget({batch: ({logs}) => ({body: {accepted: logs.length}, status: 202})})
    try {
      const hog = path.join(repoRoot, 'test', 'fixtures', 'targets', 'hold-back-generator.mjs')
      // The workers get 5 ms of every 100: far less than 400,000 logs/s.
      const {code, result, stderr} = await capacity(['--target', target.url, '--no-verify', '--workers', '1', '--start', '400k'], {NODE_OPTIONS: `--import=${hog}`})
      expect(code, curve(result, stderr)).to.equal(4)
      expect(result.outcome).to.equal('generator')
      expect(result.trials).to.have.length(1)
      expect(result.trials[0].verdict).to.equal('inconclusive')
      expect(result.trials[0].reasons).to.include('generator')
      expect(result.maxSustainable.limitedBy).to.include('generator')
      expect(result.notes.join('\n')).to.match(/add workers/)
    } finally {
      await target.stop()
    }
  })
})
