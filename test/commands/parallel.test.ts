import {expect} from 'chai'

import {deferred, runCli, waitUntil} from '../helpers.js'
import {childPids, isAlive, startCli} from '../lib/load/cli.js'
import {type Sink, startSink} from '../lib/load/sink.js'

/** A target that holds every answer until `gate` opens. */
const heldSink = (gate: Promise<void>) =>
  startSink({
    async answer(_request, logs) {
      await gate
      return {body: JSON.stringify({accepted: logs}), status: 202}
    },
  })

const workersSeen = (sink: Sink) => new Set(sink.keys.map((key) => /-w(\d+)-b/.exec(key ?? '')?.[1])).size

describe('logbench parallel', () => {
  it('splits --logs exactly over the workers, gives them disjoint seqs, and prints the aggregate as JSON', async () => {
    const sink = await startSink()
    try {
      const result = await runCli(['parallel', '--target', sink.url, '--workers', '3', '--logs', '10000', '--batch-size', '500', '--json', '--threshold', 'errors==0'])
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json.kind).to.equal('parallel')
      expect(json.runId).to.be.a('string')
      expect(json.logs).to.deep.equal({acked: 10_000, failed: 0, sent: 10_000})
      expect(json.workers.map((w: {logs: {acked: number}}) => w.logs.acked)).to.deep.equal([3334, 3333, 3333])
      expect(json.workers.map((w: {status: string}) => w.status)).to.deep.equal(['ok', 'ok', 'ok'])
      expect(json.workersSucceeded).to.equal(3)
      expect(json.durationMs).to.be.greaterThan(0)
      expect(json.throughput.logsPerSecond).to.be.greaterThan(0)
      expect(json.latency.count).to.equal(json.workers.reduce((sum: number, w: {result: {latency: {count: number}}}) => sum + w.result.latency.count, 0))
      expect(json.latency.p99Ms).to.be.at.least(json.latency.p50Ms)
      expect(json.errors.total).to.equal(0)
      expect(json.thresholds[0]).to.include({expression: 'errors==0', ok: true})
      // --target without --clickhouse-url: nothing to count rows in.
      expect(json.verification).to.equal(null)
      expect(sink.ackedLogs).to.equal(10_000)
      expect(new Set(sink.seqs).size).to.equal(10_000)
      expect(Math.max(...sink.seqs)).to.equal(9999)
      expect(result.stderr).to.equal('')
    } finally {
      await sink.stop()
    }
  })

  it("prints the guide's report with per-worker progress on stderr when not a terminal", async () => {
    const sink = await startSink()
    try {
      const result = await runCli(['parallel', '--target', sink.url, '--workers', '2', '--logs-per-worker', '3000'])
      expect(result.code, result.stderr).to.equal(0)
      for (const section of ['Test Configuration', 'Individual Worker Performance', 'Aggregate Results', 'Performance Assessment']) {
        expect(result.stdout).to.include(section)
      }

      expect(result.stdout).to.match(/successful workers\s+2\/2/)
      expect(result.stdout).to.match(/total logs\s+6,000 acknowledged of 6,000 sent/)
      expect(result.stderr).to.match(/worker 1 finished: 3,000 logs in/)
      expect(result.stderr).to.match(/worker 2 finished: 3,000 logs in/)
      expect(result.stdout).not.to.include('worker 1 finished')
    } finally {
      await sink.stop()
    }
  })

  it('reports a worker killed with SIGKILL, still counts the others, and exits 4', async () => {
    // Nothing is answered until the victim is dead: no worker can have finished before it.
    const killed = deferred()
    const sink = await heldSink(killed.promise)
    try {
      const cli = startCli(['parallel', '--target', sink.url, '--workers', '3', '--logs-per-worker', '3000', '--batch-size', '100', '--concurrency', '1', '--json'])
      await waitUntil(() => workersSeen(sink) === 3, 'a batch from each worker')
      const [victim] = childPids(cli.child.pid!)
      expect(victim).to.be.a('number')
      process.kill(victim, 'SIGKILL')
      await waitUntil(() => !isAlive(victim), 'the victim gone')
      killed.resolve()
      const result = await cli.done
      expect(result.code, result.stderr).to.equal(4)
      const json = JSON.parse(result.stdout)
      const failed = json.workers.filter((w: {status: string}) => w.status === 'failed')
      expect(failed).to.have.length(1)
      expect(failed[0].pid).to.equal(victim)
      expect(failed[0].error).to.include('killed by SIGKILL')
      expect(json.workersSucceeded).to.equal(2)
      expect(json.logs.acked).to.equal(6000)
      expect(json.assessment.grade).to.equal('failed')
    } finally {
      killed.resolve()
      await sink.stop()
    }
  })

  it('Ctrl+C stops every worker, prints the partial aggregate, leaves no process behind and exits 130', async () => {
    // Each worker's first batches are held until the signal: they are in flight when it comes.
    const signalled = deferred()
    const sink = await heldSink(signalled.promise)
    try {
      const cli = startCli(['parallel', '--target', sink.url, '--workers', '2', '--logs-per-worker', '10000000', '--json'])
      await waitUntil(() => workersSeen(sink) === 2, 'a batch from each worker')
      const children = childPids(cli.child.pid!)
      expect(children).to.have.length(2)
      cli.child.kill('SIGINT')
      signalled.resolve()
      const result = await cli.done
      expect(result.code, result.stderr).to.equal(130)
      const json = JSON.parse(result.stdout)
      expect(json.interrupted).to.equal(true)
      expect(json.workers.map((w: {status: string}) => w.status)).to.deep.equal(['interrupted', 'interrupted'])
      // The batches in flight were answered and counted: at least one of each worker.
      expect(json.workers.every((w: {logs: {acked: number}}) => w.logs.acked >= 1000)).to.equal(true)
      expect(json.logs.acked).to.equal(sink.ackedLogs)
      expect(json.logs.failed).to.equal(0)
      for (const pid of children) expect(isAlive(pid), `worker ${pid} still alive`).to.equal(false)
    } finally {
      signalled.resolve()
      await sink.stop()
    }
  })

  it('workers stop by themselves when the parallel process is killed outright (SIGKILL)', async () => {
    const sink = await heldSink(Promise.resolve())
    try {
      const cli = startCli(['parallel', '--target', sink.url, '--workers', '2', '--logs-per-worker', '10000000', '--json'])
      await waitUntil(() => workersSeen(sink) === 2, 'a batch from each worker')
      const children = childPids(cli.child.pid!)
      expect(children).to.have.length(2)
      cli.child.kill('SIGKILL')
      await cli.done
      await waitUntil(() => children.every((pid) => !isAlive(pid)), 'every worker gone', 15_000)
    } finally {
      await sink.stop()
    }
  })

  it('rejects a split that leaves a worker nothing to do (exit 2)', async () => {
    const result = await runCli(['parallel', '--target', 'http://127.0.0.1:1', '--workers', '4', '--logs', '3'])
    expect(result.code).to.equal(2)
    expect(result.stderr).to.include('fewer than one log')
  })
})
