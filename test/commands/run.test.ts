import {expect} from 'chai'
import {rmSync} from 'node:fs'

import {openStore, type Store} from '../../src/lib/store/index.js'
import {runCli, serverUrl, tempDir, uniqueDatabase} from '../helpers.js'
import {startCli} from '../lib/load/cli.js'
import {type Sink, startSink} from '../lib/load/sink.js'

const waitUntil = async (condition: () => boolean, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('logbench run', () => {
  let sink: Sink
  const dirs: string[] = []
  const dir = () => {
    const d = tempDir('logbench-run-')
    dirs.push(d)
    return d
  }

  before(async () => {
    sink = await startSink()
  })

  after(async () => {
    await sink.stop()
    for (const d of dirs) rmSync(d, {force: true, recursive: true})
  })

  it('zero set-up --json: sends through its own serve, verifies, and prints one result object', async () => {
    const result = await runCli(['run', '--logs', '20000', '--json', '--data-dir', dir(), '--seed', '7'])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.equal('')
    const json = JSON.parse(result.stdout)
    expect(json.runId).to.match(/^run-\d{8}-\d{6}-[0-9a-f]{6}$/)
    expect(json.logs).to.deep.equal({acked: 20_000, failed: 0, sent: 20_000})
    expect(json.durationMs).to.be.a('number').greaterThan(0)
    expect(json.throughput.logsPerSecond).to.be.greaterThan(0)
    expect(json.latency.p50Ms).to.be.a('number').greaterThan(0)
    expect(json.latency.p99Ms).to.be.at.least(json.latency.p50Ms)
    expect(json.latency.histogram).to.be.a('string')
    expect(json.errors).to.deep.equal({byClass: {}, logsByClass: {}, logsByKind: {}, samples: {}, total: 0})
    expect(json.verification).to.deep.include({acked: 20_000, duplicated: 0, missing: 0, ok: true, stored: 20_000})
    expect(json.config).to.deep.include({batchSize: 1000, model: 'closed', payload: 'array', seed: 7})
    expect(json.analysis.reports.total.logs).to.equal(20_000)
    expect(json.analysis.reports.apps.rows.map((a: {app: string}) => a.app).sort()).to.deep.equal(['api-gateway', 'auth-service', 'notification-service', 'payment-service'])
    expect(json.interrupted).to.equal(false)
  })

  it('refuses a --run-id that already has rows, before sending anything (exit 2)', async () => {
    const data = dir()
    const first = await runCli(['run', '--logs', '2000', '--json', '--data-dir', data, '--run-id', 'run-reused'])
    expect(first.code, first.stderr).to.equal(0)
    const again = await runCli(['run', '--logs', '2000', '--json', '--data-dir', data, '--run-id', 'run-reused'])
    expect(again.code).to.equal(2)
    expect(JSON.parse(again.stdout).error.message).to.equal(`run id run-reused already has 2,000 rows in embedded engine ${data} logs_db.logs`)
    const parallel = await runCli(['parallel', '--workers', '2', '--logs', '2000', '--data-dir', data, '--run-id', 'run-reused'])
    expect(parallel.code).to.equal(2)
    expect(parallel.stderr).to.include('logbench cleanup --run-id run-reused --yes')
  })

  it('prints the human report and exits 4 when a threshold is breached', async () => {
    const result = await runCli(['run', '--logs', '5000', '--data-dir', dir(), '--threshold', 'p99<=0.001ms', '--threshold', 'errors==0', '--threshold', 'lost==0'])
    expect(result.code, result.stderr).to.equal(4)
    for (const section of ['Configuration', 'Results', 'Verification', 'Thresholds', 'Analysis']) expect(result.stdout).to.include(section)
    expect(result.stdout).to.include('every acknowledged log is stored')
    expect(result.stdout).to.match(/FAIL {2}p99<=0\.001ms/)
    expect(result.stdout).to.match(/pass {2}lost==0/)
    expect(result.stderr).to.include('check failed: threshold p99<=0.001ms breached')
  })

  it('--events streams NDJSON start, progress and a result with its histogram', async () => {
    const before = sink.ackedLogs
    const result = await runCli(['run', '--target', sink.url.replace('/api/logs/batch', ''), '--logs', '5000', '--batch-size', '500', '--events', '--progress-interval', '50'])
    expect(result.code, result.stderr).to.equal(0)
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line))
    expect(events[0]).to.deep.include({type: 'start', v: 1})
    expect(events[0].worker).to.deep.equal({count: 1, index: 0})
    expect(events.at(-1).type).to.equal('result')
    expect(events.slice(1, -1).every((e: {type: string}) => e.type === 'progress')).to.equal(true)
    const {result: run} = events.at(-1)
    expect(run.logs.acked).to.equal(5000)
    expect(run.latency.histogram).to.be.a('string')
    expect(run.verification).to.equal(null)
    expect(sink.ackedLogs - before).to.equal(5000)
  })

  it('sends the payload shape and headers asked for', async () => {
    sink.keepBodies = true
    sink.bodies.length = 0
    const start = sink.requests
    try {
      const result = await runCli(['run', '--target', sink.url, '--logs', '30', '--batch-size', '10', '--payload', 'wrapped', '--header', 'Authorization: Bearer s3cret', '--json'])
      expect(result.code, result.stderr).to.equal(0)
    } finally {
      sink.keepBodies = false
    }

    expect(sink.requests - start).to.equal(3)
    expect(sink.lastHeaders.authorization).to.equal('Bearer s3cret')
    expect(sink.lastHeaders['content-type']).to.equal('application/json')
    expect(sink.lastHeaders['idempotency-key']).to.match(/^run-.*-w0-b\d$/)
    const body = JSON.parse(sink.bodies[0].toString())
    expect(body.logs).to.have.length(10)
    expect(body.logs[0].metadata.run_id).to.be.a('string')
    const ndjson = await runCli(['run', '--target', sink.url, '--logs', '10', '--batch-size', '10', '--payload', 'ndjson', '--json'])
    expect(JSON.parse(ndjson.stdout).logs.acked).to.equal(10)
    expect(sink.lastHeaders['content-type']).to.equal('application/x-ndjson')
    const token = await runCli(['run', '--target', sink.url, '--logs', '10', '--json'], {env: {LOGBENCH_TOKEN: 'env-token'}})
    expect(token.code, token.stderr).to.equal(0)
    expect(sink.lastHeaders.authorization).to.equal('Bearer env-token')
  })

  it('reproduces byte-identical logs for the same seed and run id', async () => {
    sink.keepBodies = true
    const bodies: string[][] = []
    try {
      for (let i = 0; i < 2; i++) {
        sink.bodies.length = 0
        const result = await runCli(['run', '--target', sink.url, '--logs', '2000', '--concurrency', '1', '--seed', '42', '--run-id', 'run-same', '--json'])
        expect(result.code, result.stderr).to.equal(0)
        // Timestamps are the send time; everything else must match byte for byte.
        bodies.push(sink.bodies.map((b) => b.toString().replaceAll(/"timestamp":"[^"]+"/g, '')))
      }
    } finally {
      sink.keepBodies = false
    }

    expect(bodies[0]).to.have.length(2)
    expect(bodies[1]).to.deep.equal(bodies[0])
    expect(bodies[0][0]).to.include('"app_id":')
  })

  it('exits 3 naming the target when nothing listens there', async () => {
    const result = await runCli(['run', '--target', 'http://127.0.0.1:1', '--logs', '100000', '--retries', '1'])
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('cannot reach http://127.0.0.1:1/api/logs/batch')
    expect(result.stderr).to.include('ECONNREFUSED')
  })

  it('rejects conflicting or malformed flags as usage errors (exit 2)', async () => {
    for (const args of [
      ['--logs', '10', '--duration', '5s'],
      ['--threshold', 'speed>1'],
      ['--payload', 'xml'],
      ['--apps', 'a:b:c'],
      ['--worker-index', '3', '--worker-count', '2'],
    ]) {
      const result = await runCli(['run', ...args, '--target', sink.url])
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2)
    }
  })

  it('Ctrl+C stops sending, waits for the batches in flight, prints the partial report and exits 130', async () => {
    const slow = await startSink({delayMs: 100})
    try {
      const cli = startCli(['run', '--target', slow.url, '--logs', '10000000', '--concurrency', '2', '--json'])
      await waitUntil(() => slow.requests >= 4)
      cli.child.kill('SIGINT')
      const result = await cli.done
      expect(result.code, result.stderr).to.equal(130)
      const json = JSON.parse(result.stdout)
      expect(json.interrupted).to.equal(true)
      expect(json.logs.acked).to.be.within(4000, 20_000)
      // Every batch sent was answered before the exit: nothing left unaccounted.
      expect(json.logs.acked + json.logs.failed).to.equal(json.logs.sent)
      expect(json.logs.acked).to.equal(slow.ackedLogs)
    } finally {
      await slow.stop()
    }
  })

  it('catches an endpoint that acknowledges logs it never stored (exit 4), counting rows in ClickHouse 18.16', async function () {
    const url = serverUrl()
    if (!url) this.skip()
    const database = uniqueDatabase('lbrun')
    const store: Store = await openStore({clickhouseUrl: url, database})
    await store.ensureSchema()
    // Acknowledges every batch, stores all but the third.
    const liar = await startSink({answer: (request, logs) => ({body: JSON.stringify({accepted: logs}), skipStore: request.index === 2, status: 202}), store})
    try {
      const result = await runCli(['run', '--target', liar.url, '--logs', '5000', '--clickhouse-url', url!, '--database', database, '--json', '--threshold', 'lost==0'])
      expect(result.code, result.stderr).to.equal(4)
      const json = JSON.parse(result.stdout)
      expect(json.logs.acked).to.equal(5000)
      expect(json.verification).to.deep.include({acked: 5000, duplicated: 0, missing: 1000, ok: false, stored: 4000})
      expect(json.thresholds[0]).to.deep.include({actual: 1000, ok: false})
    } finally {
      await liar.stop()
      await store.command(`DROP DATABASE IF EXISTS \`${database}\``)
      await store.close()
    }
  })
})
