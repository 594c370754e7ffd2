/**
 * The exit codes of the README that no other test reaches: 1 for an internal
 * error (the stack under DEBUG=1), 3 for refused credentials, a data directory
 * held by another process and a missing embedded engine, and 5 when counting
 * the stored rows fails or times out (the report is still printed).
 */
import {expect} from 'chai'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {openStore, type Store} from '../../src/lib/store/index.js'
import {clickHouseErrorText, type ClickHouseProxy, startClickHouseProxy} from '../fixtures/clickhouse-proxy.js'
import {backends, openEmbeddedStore, repoRoot, requireServerUrl, runCli, tempDir, uniqueDatabase} from '../helpers.js'
import {type Sink, startSink} from '../lib/load/sink.js'

describe('exit codes', () => {
  let dir: string

  before(() => {
    dir = tempDir('logbench-exit-')
  })

  after(() => {
    rmSync(dir, {force: true, recursive: true})
  })

  it('1: an internal error says so, with the stack only under DEBUG=1 (and kind "internal" under --json)', async () => {
    // A result document that passes the checks but lacks the counters merge adds up: a fault inside logbench.
    const file = path.join(dir, 'hollow.json')
    writeFileSync(file, JSON.stringify({config: {worker: {count: 1, index: 0}}, kind: 'run', latency: {histogram: ''}, logs: {acked: 1, failed: 0, sent: 1}, runId: 'run-hollow'}))
    const plain = await runCli(['merge', file], {env: {DEBUG: ''}})
    expect(plain.code, plain.stderr).to.equal(1)
    expect(plain.stderr).to.match(/^Error: /)
    expect(plain.stderr).to.include('(set DEBUG=1 for the stack trace)')
    expect(plain.stderr).not.to.match(/^\s+at /m)
    const debug = await runCli(['merge', file], {env: {DEBUG: '1'}})
    expect(debug.code).to.equal(1)
    expect(debug.stderr).to.match(/^\s+at .*\(file:\/\/.*\/dist\/lib\//m)
    const json = await runCli(['merge', file, '--json'], {env: {DEBUG: ''}})
    expect(json.code).to.equal(1)
    expect(JSON.parse(json.stdout).error).to.include({exitCode: 1, kind: 'internal'})
  })

  it('3: ClickHouse refusing the credentials, before anything is sent; the password is never printed', async function () {
    const url = requireServerUrl(this)
    const sink = await startSink()
    try {
      for (const args of [
        ['doctor', '--clickhouse-url', url, '--clickhouse-user', 'nobody', '--clickhouse-password', 's3cret-pw'],
        ['run', '--target', sink.url, '--logs', '100', '--clickhouse-url', url, '--clickhouse-user', 'default', '--clickhouse-password', 's3cret-pw'],
      ]) {
        const result = await runCli(args)
        expect(result.code, `${args[0]}: ${result.stderr}`).to.equal(3)
        // The server's own words follow (they differ by version: "Unknown user nobody" on 18.16, "Authentication failed" later).
        expect(result.stderr).to.match(/ClickHouse at http:\/\/(nobody|default)@[^ ]+ refused the credentials: \S/)
        expect(result.stderr).to.include('--clickhouse-user / --clickhouse-password')
        expect(result.stdout + result.stderr).not.to.include('s3cret-pw')
      }

      expect(sink.requests).to.equal(0)
    } finally {
      await sink.stop()
    }
  })

  it('3: an embedded data directory held by another process', async () => {
    // This process holds the suite's embedded data directory.
    const held = await openEmbeddedStore(uniqueDatabase('lbheld'))
    try {
      const dataDir = backends[1].options('x')!.dataDir!
      const result = await runCli(['doctor', '--data-dir', dataDir])
      expect(result.code, result.stderr).to.equal(3)
      expect(result.stdout).to.equal('')
      // chDB 3 reports the lock as "Failed to create connection for path", which logbench does not yet
      // tell apart from an unwritable directory: the message is only required to name the directory.
      expect(result.stderr).to.include(dataDir)
    } finally {
      await held.close()
    }
  })

  it('3: the embedded engine missing (the optional chdb not installed)', async () => {
    const withoutChdb = `--import=${path.join(repoRoot, 'test', 'fixtures', 'without-chdb.mjs')}`
    const env = {CLICKHOUSE_URL: undefined, NODE_OPTIONS: [process.env.NODE_OPTIONS, withoutChdb].filter(Boolean).join(' ')}
    const human = await runCli(['doctor', '--data-dir', path.join(dir, 'data')], {env})
    expect(human.code, human.stderr).to.equal(3)
    expect(human.stderr).to.include('the embedded ClickHouse engine (npm package "chdb") cannot be loaded')
    expect(human.stderr).to.include('or use a server with --clickhouse-url')
    const json = await runCli(['run', '--logs', '100', '--json', '--data-dir', path.join(dir, 'data')], {env})
    expect(json.code).to.equal(3)
    expect(JSON.parse(json.stdout).error).to.include({exitCode: 3, kind: 'environment'})
  })

  describe('5: counting the stored rows fails or times out, and the measured report is still printed', function () {
    let url: string
    let store: Store
    let sink: Sink
    const database = uniqueDatabase('lbcount')

    before(async function () {
      url = requireServerUrl(this)
      store = await openStore({clickhouseUrl: url, database})
      await store.ensureSchema()
      sink = await startSink({store})
    })

    after(async () => {
      await sink?.stop()
      await store?.command(`DROP DATABASE IF EXISTS ${database}`)
      await store?.close()
    })

    /** A run whose store is reached through a proxy that answers the counting query itself. */
    const runCounting = async (answer: 'drop' | {status: number; body: string}, json: boolean) => {
      const proxy: ClickHouseProxy = await startClickHouseProxy({decide: (statement) => (/ AS lb_seq\b/.test(statement.sql) ? answer : 'forward'), target: url})
      try {
        const result = await runCli(['run', '--target', sink.url, '--logs', '2000', '--clickhouse-url', proxy.url, '--database', database, ...(json ? ['--json'] : [])])
        const counts = proxy.statements.filter((statement) => / AS lb_seq\b/.test(statement.sql))
        expect(counts.length, 'the counting query was asked').to.be.at.least(1)
        return result
      } finally {
        await proxy.close()
      }
    }

    it('ClickHouse times the count out (its "Timeout exceeded" error): exit 5, verification null and the note', async () => {
      const timeout = {body: clickHouseErrorText(159, 'Timeout exceeded: elapsed 30.000181 seconds, maximum: 30'), status: 500}
      const result = await runCounting(timeout, true)
      expect(result.code, result.stderr).to.equal(5)
      const json = JSON.parse(result.stdout)
      expect(json.logs).to.deep.equal({acked: 2000, failed: 0, sent: 2000})
      expect(json.latency.p99Ms).to.be.a('number')
      expect(json.verification).to.equal(null)
      expect(json.verificationNote).to.match(/^not verified: counting the stored rows failed: Timeout exceeded: elapsed 30\.000181 seconds/)
      const human = await runCounting(timeout, false)
      expect(human.code).to.equal(5)
      expect(human.stdout).to.include('Results').and.match(/NOT VERIFIED: counting the stored rows failed: Timeout exceeded/)
    })

    it('the connection drops while counting: exit 5, the note says ClickHouse could not be reached', async () => {
      const result = await runCounting('drop', true)
      expect(result.code, result.stderr).to.equal(5)
      const json = JSON.parse(result.stdout)
      expect(json.logs.acked).to.equal(2000)
      expect(json.verification).to.equal(null)
      expect(json.verificationNote).to.match(/^not verified: counting the stored rows failed: cannot reach ClickHouse at http:\/\/127\.0\.0\.1:\d+ \(/)
    })
  })
})
