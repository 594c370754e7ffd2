import {expect} from 'chai'
import {rmSync} from 'node:fs'

import {startIngestServer} from '../../src/lib/ingest/index.js'
import {openStore, type Store} from '../../src/lib/store/index.js'
import {deferred, openEmbeddedStore, requireServerUrl, runCli, tempDir, uniqueDatabase, waitUntil} from '../helpers.js'
import {startCli} from '../lib/load/cli.js'
import {type Sink, startSink} from '../lib/load/sink.js'

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
    const progress = events.slice(1, -1)
    expect(progress.map((e: {type: string}) => e.type)).to.deep.equal(progress.map(() => 'progress'))
    // However quick the run, the last progress event tells the final counts.
    expect(progress.length).to.be.at.least(1)
    expect(progress.at(-1)).to.deep.include({logs: {acked: 5000, failed: 0, sent: 5000}, plannedLogs: 5000, v: 1, worker: 0})
    for (const [i, event] of progress.entries()) if (i > 0) expect(event.logs.acked).to.be.at.least(progress[i - 1].logs.acked)
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

  it('refuses a --header it sets itself (Connection, Host, Content-Length, Transfer-Encoding, Idempotency-Key) before sending anything (exit 2)', async () => {
    const start = sink.requests
    for (const header of ['Connection: close', 'connection: keep-alive', 'Host: elsewhere', 'Content-Length: 5', 'Transfer-Encoding: chunked', 'Idempotency-Key: fixed']) {
      const result = await runCli(['run', '--target', sink.url, '--logs', '10', '--header', header])
      const name = header.slice(0, header.indexOf(':'))
      expect(result.code, `${header}: ${result.stderr}`).to.equal(2)
      expect(result.stderr).to.include(`--header ${name} cannot be set: logbench sets it for every batch`)
    }

    expect(sink.requests).to.equal(start)
  })

  it('a re-run with the same --run-id sends fresh keys, so serve stores it again instead of answering from its key cache', async () => {
    const database = uniqueDatabase('lbnonce')
    const store = await openEmbeddedStore(database)
    await store.ensureSchema()
    const serve = await startIngestServer({port: 0, store})
    try {
      // Serve answers a key it has committed from its cache, without storing again.
      const body = JSON.stringify([{app_id: 'a', message: 'm', metadata: {run_id: 'run-probe', seq: 0}}])
      const post = async () => (await fetch(`${serve.url}/api/logs/batch`, {body, headers: {'content-type': 'application/json', 'idempotency-key': 'k-1'}, method: 'POST'})).json()
      expect(await post()).to.deep.equal({accepted: 1})
      expect(await post()).to.deep.equal({accepted: 1, replayed: true})

      const keys: string[][] = []
      for (let i = 0; i < 2; i++) {
        // --no-verify: a run verified here would refuse a run id that already has rows.
        const result = await runCli(['run', '--target', serve.url, '--logs', '3000', '--batch-size', '1000', '--run-id', 'run-again', '--no-verify', '--json'])
        expect(result.code, result.stderr).to.equal(0)
        expect(JSON.parse(result.stdout).logs.acked).to.equal(3000)
        const [{n}] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef} WHERE run_id = 'run-again'`)
        expect(n, `rows after run ${i + 1}`).to.equal(3000 * (i + 1))
        const [{k}] = await store.query<{k: string[]}>(`SELECT groupUniqArray(batch_id) AS k FROM ${store.tableRef} WHERE run_id = 'run-again'`)
        keys.push(k.filter((key) => !keys.flat().includes(key)).sort())
      }

      // Same run id, worker and batches; a nonce of each invocation tells the keys apart.
      for (const [i, run] of keys.entries()) expect(run, `keys of run ${i + 1}`).to.have.length(3).and.satisfy((list: string[]) => list.every((key) => /^run-again-[0-9a-f]{8}-w0-b[0-2]$/.test(key)))
      const nonce = (key: string) => key.split('-')[2]
      expect(new Set(keys[0].map(nonce)).size).to.equal(1)
      expect(nonce(keys[1][0])).not.to.equal(nonce(keys[0][0]))
    } finally {
      await serve.stop()
      await store.command(`DROP DATABASE IF EXISTS ${database}`)
      await store.close()
    }
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
    // Every answer waits until the signal is sent: the two batches in flight then are answered after it.
    const signalled = deferred()
    const held = await startSink({
      async answer(_request, logs) {
        await signalled.promise
        return {body: JSON.stringify({accepted: logs}), status: 202}
      },
    })
    try {
      const cli = startCli(['run', '--target', held.url, '--logs', '10000000', '--concurrency', '2', '--json'])
      await waitUntil(() => held.requests === 2, 'both batches in flight')
      cli.child.kill('SIGINT')
      signalled.resolve()
      const result = await cli.done
      expect(result.code, result.stderr).to.equal(130)
      const json = JSON.parse(result.stdout)
      expect(json.interrupted).to.equal(true)
      // The batches in flight at the signal were waited for and counted; every batch sent was answered.
      expect(json.logs.acked).to.be.at.least(2000)
      expect(json.logs).to.deep.equal({acked: held.ackedLogs, failed: 0, sent: held.requests * 1000})
      expect(json.batches.sent).to.equal(held.requests)
    } finally {
      signalled.resolve()
      await held.stop()
    }
  })

  it('catches an endpoint that acknowledges logs it never stored (exit 4), counting rows in ClickHouse 18.16', async function () {
    const url = requireServerUrl(this)
    const database = uniqueDatabase('lbrun')
    const store: Store = await openStore({clickhouseUrl: url, database})
    await store.ensureSchema()
    // Acknowledges every batch, stores all but the third.
    const liar = await startSink({answer: (request, logs) => ({body: JSON.stringify({accepted: logs}), skipStore: request.index === 2, status: 202}), store})
    try {
      const result = await runCli(['run', '--target', liar.url, '--logs', '5000', '--clickhouse-url', url, '--database', database, '--json', '--threshold', 'lost==0'])
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
