/**
 * The user's own pipeline: an ingest API built the way the guide describes
 * (its own HTTP server, one insert per request, its own table with no run_id or
 * seq columns and the metadata as JSON text), load-tested, verified, analysed
 * and cleaned through the table profile, on ClickHouse 18.16 and on the
 * embedded engine. Also: a lying app, a late one, and a table that cannot be
 * verified.
 */
import {expect} from 'chai'

import {analyze, parseReportOptions, REPORT_NAMES} from '../../src/lib/analyze/index.js'
import {executeCleanup, parseCleanupRequest, planCleanup} from '../../src/lib/cleanup/index.js'
import {parseLoadFlags} from '../../src/lib/load/settings.js'
import {parallelSession} from '../../src/lib/load/session/parallel-session.js'
import {nodeSpawner} from '../../src/lib/load/workers/spawn.js'
import {openStore, type Store} from '../../src/lib/store/index.js'
import {clickhouseClientWriter, type GuideApp, startGuideApp, storeWriter} from '../fixtures/guide-app.js'
import {type ClickHouseProxy, startClickHouseProxy} from '../fixtures/clickhouse-proxy.js'
import {binPath, deferred, openEmbeddedStore, requireServerUrl, runCli, uniqueDatabase} from '../helpers.js'

const REPORTS_OF_THE_GUIDE_TABLE = ['total', 'apps', 'levels', 'rates', 'runs', 'size', 'partitions']

describe("your own pipeline: the guide's app and table on ClickHouse 18.16", function () {
  let url: string
  const database = uniqueDatabase('guide')
  let app: GuideApp
  let store: Store
  const apps: GuideApp[] = []

  /** The guide's app with its own table in a database of its own. */
  const startApp = async (db: string, variant: Omit<Parameters<typeof startGuideApp>[0], 'writer'> = {}) => {
    const started = await startGuideApp({...variant, writer: await clickhouseClientWriter(url, db)})
    apps.push(started)
    return started
  }

  const storeFlags = (db: string) => ['--clickhouse-url', url, '--database', db]

  before(async function () {
    url = requireServerUrl(this)
    app = await startApp(database)
    store = await openStore({clickhouseUrl: url, database, table: 'logs'})
  })

  after(async () => {
    for (const started of apps) await started.close()
    if (store) {
      for (const db of [database, `${database}_lie`, `${database}_twice`, `${database}_late`]) await store.command(`DROP DATABASE IF EXISTS ${db}`)
      await store.close()
    }
  })

  it('parallel --workers 4 against the app verifies acked = stored, 0 missing, through the metadata JSON', async () => {
    const result = await runCli(['parallel', '--workers', '4', '--logs-per-worker', '5000', '--target', `${app.url}/api/logs/batch`, '--payload', 'wrapped', '--json', ...storeFlags(database)])
    expect(result.code, result.stderr).to.equal(0)
    const json = JSON.parse(result.stdout)
    expect(json.logs).to.include({acked: 20_000, failed: 0, sent: 20_000})
    expect(json.verification).to.include({acked: 20_000, duplicated: 0, missing: 0, ok: true, outside: 0, stored: 20_000, unacknowledged: 0, unique: 20_000})
    expect(json.verification.store).to.include(`${database}.logs`)
    const [row] = await store.query<{n: number}>(`SELECT count() AS n FROM ${database}.logs`)
    expect(row.n).to.equal(20_000)
  })

  it('the analyze overview exits 0, runs every report the table supports and names the skipped one with its flag', async () => {
    const result = await runCli(['analyze', '--json', ...storeFlags(database)])
    expect(result.code, result.stderr).to.equal(0)
    const json = JSON.parse(result.stdout)
    expect(Object.keys(json.reports).sort()).to.deep.equal([...REPORTS_OF_THE_GUIDE_TABLE].sort())
    expect(json.reports.total).to.include({apps: 4, logs: 20_000, runs: 1})
    expect(json.reports.apps.rows.map((r: {app: string}) => r.app).sort()).to.deep.equal(['api-gateway', 'auth-service', 'notification-service', 'payment-service'])
    expect(json.reports.runs.rows[0].logs).to.equal(20_000)
    expect(json.skipped).to.have.length(1)
    expect(json.skipped[0]).to.include({flag: '--column event_time=COLUMN', report: 'lag'})
    expect(json.profile).to.deep.include({shape: 'guide'})
    expect(json.profile.roles).to.include({run_id: 'metadata.run_id', seq: 'metadata.seq'})

    const human = await runCli(['analyze', ...storeFlags(database)])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.match(/lag skipped: \S+\.logs has no event_time .*--column event_time=COLUMN/)
    // Asked for by name, a report the table cannot give is a clear usage error, never "Unknown identifier".
    const named = await runCli(['analyze', 'lag', ...storeFlags(database)])
    expect(named.code).to.equal(2)
    expect(named.stderr).to.include('--column event_time=')
    expect(named.stderr).not.to.include('Unknown identifier')
    // With the role supplied, the report runs.
    const mapped = await runCli(['analyze', 'lag', '--json', '--column', 'event_time=created_at', '--column', 'ingest_time=created_at', ...storeFlags(database)])
    expect(mapped.code, mapped.stderr).to.equal(0)
    expect(JSON.parse(mapped.stdout).reports.lag.logs).to.equal(20_000)
  })

  it('catches a lying app exactly: every 97th log dropped, every 89th stored twice, all acknowledged (exit 4)', async () => {
    const db = `${database}_lie`
    const liar = await startApp(db, {dropEvery: 97, duplicateEvery: 89})
    const result = await runCli(['run', '--target', liar.url, '--logs', '10000', '--batch-size', '500', '--json', ...storeFlags(db)])
    expect(result.code, result.stderr).to.equal(4)
    const json = JSON.parse(result.stdout)
    expect(liar.stats.dropped).to.equal(Math.floor(10_000 / 97))
    expect(json.logs.acked).to.equal(10_000)
    expect(json.verification).to.include({
      acked: 10_000,
      duplicated: liar.stats.duplicated,
      missing: liar.stats.dropped,
      ok: false,
      stored: 10_000 - liar.stats.dropped + liar.stats.duplicated,
    })
    expect(liar.stats.duplicated).to.be.greaterThan(100)
  })

  it('fails a run whose logs were all stored but some of them twice (exit 4), naming the duplicates', async () => {
    const db = `${database}_twice`
    const doubler = await startApp(db, {duplicateEvery: 89})
    const result = await runCli(['run', '--target', doubler.url, '--logs', '10000', '--batch-size', '500', '--json', ...storeFlags(db)])
    expect(result.code, result.stderr).to.equal(4)
    const json = JSON.parse(result.stdout)
    expect(doubler.stats).to.include({dropped: 0, duplicated: Math.floor(10_000 / 89), received: 10_000})
    // Nothing is missing: the duplicates alone fail the run.
    expect(json.verification).to.include({acked: 10_000, duplicated: doubler.stats.duplicated, missing: 0, stored: 10_000 + doubler.stats.duplicated, unique: 10_000})
    expect(json.thresholds).to.deep.equal([])
    // For people: the reason, with the count, on stderr, and nothing said to be missing.
    const before = doubler.stats.duplicated
    const human = await runCli(['run', '--target', doubler.url, '--logs', '10000', '--batch-size', '500', ...storeFlags(db)])
    expect(human.code, human.stderr).to.equal(4)
    const twice = doubler.stats.duplicated - before
    expect(twice).to.be.greaterThan(100)
    expect(human.stderr.split('\n').filter((line) => line.startsWith('check failed'))).to.deep.equal([`check failed: ${twice} rows are duplicates of logs already stored (a log sent once was stored more than once)`])
    expect(human.stdout).to.match(new RegExp(`duplicated\\s+${twice}\\b`))
  })

  it('passes an app that stores everything late with --verify-wait, and reports the read-back delay', async () => {
    const db = `${database}_late`
    // The app acknowledges at once and stores only once the run has counted and found the logs missing.
    const flush = deferred()
    const late = await startApp(db, {holdWrites: flush.promise})
    const counts = (proxy: ClickHouseProxy) => proxy.statements.filter((statement) => /AS lb_seq/.test(statement.sql))
    const proxy = await startClickHouseProxy({
      answered(statement) {
        if (/AS lb_seq/.test(statement.sql)) flush.resolve()
      },
      target: url,
    })
    try {
      const result = await runCli(['run', '--target', late.url, '--logs', '3000', '--batch-size', '500', '--verify-wait', '60s', '--json', '--clickhouse-url', proxy.url, '--database', db])
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json.verification).to.include({acked: 3000, missing: 0, ok: true, stored: 3000})
      // The first count came back short (nothing was stored yet), so the run kept counting.
      const [first] = counts(proxy)
      expect(JSON.parse(first.answer!.trim()), 'the first count').to.include({stored: 0})
      expect(counts(proxy).length).to.be.at.least(2)
      expect(json.verification.waitedMs).to.be.greaterThan(0)
      // The delay runs from the last acknowledgement to the count that found every log, which came after a wait.
      expect(json.verification.readBackDelayMs).to.be.a('number').greaterThan(0)
    } finally {
      flush.resolve()
      await proxy.close()
    }
  })

  it('never loses the report: a table with no run id mapping prints the full report and names the --column flag (exit 5, never 1)', async () => {
    await store.command(`CREATE TABLE ${database}.plain (app_id String, message String, created_at DateTime) ENGINE = MergeTree ORDER BY created_at`)
    const result = await runCli(['run', '--target', app.url, '--logs', '2000', '--json', ...storeFlags(database), '--table', 'plain'])
    expect(result.code, result.stderr).to.equal(5)
    const json = JSON.parse(result.stdout)
    expect(json.logs.acked).to.equal(2000)
    expect(json.latency.p50Ms).to.be.a('number')
    expect(json.verification).to.equal(null)
    expect(json.verificationNote).to.match(/not verified: \S+\.plain has no run_id .*--column run_id=COLUMN/)
    const human = await runCli(['run', '--target', app.url, '--logs', '2000', ...storeFlags(database), '--table', 'plain'])
    expect(human.code).to.equal(5)
    expect(human.stdout).to.include('Results')
    expect(human.stdout).to.match(/p99/)
    expect(human.stdout).to.match(/NOT VERIFIED: \S+\.plain has no run_id/)
    expect(human.stdout).to.include('--column run_id=')
  })

  it('cleanup --truncate empties the table with --yes; without --yes and without a TTY it exits 2 and deletes nothing', async () => {
    const [before] = await store.query<{n: number}>(`SELECT count() AS n FROM ${database}.logs`)
    expect(before.n).to.be.greaterThan(0)
    const refused = await runCli(['cleanup', '--truncate', ...storeFlags(database)])
    expect(refused.code).to.equal(2)
    const [kept] = await store.query<{n: number}>(`SELECT count() AS n FROM ${database}.logs`)
    expect(kept.n).to.equal(before.n)
    // By run id, through the metadata JSON, on a mutation of 18.16.
    const runs = await store.query<{rid: string}>(
      `SELECT visitParamExtractString(metadata, 'run_id') AS rid FROM ${database}.logs GROUP BY rid ORDER BY count() DESC LIMIT 1`,
    )
    const byRun = await runCli(['cleanup', '--run-id', runs[0].rid, '--dry-run', '--json', ...storeFlags(database)])
    expect(byRun.code, byRun.stderr).to.equal(0)
    expect(JSON.parse(byRun.stdout)).to.include({affectedRows: 20_000})
    const done = await runCli(['cleanup', '--truncate', '--yes', '--json', ...storeFlags(database)])
    expect(done.code, done.stderr).to.equal(0)
    expect(JSON.parse(done.stdout)).to.include({removedRows: before.n, rowsAfter: 0})
  })

  it('refuses bad --column input as usage errors naming it, before anything is sent or spliced into SQL', async () => {
    const sentBefore = app.stats.requests
    const unknown = await runCli(['run', '--target', app.url, '--logs', '100', '--column', 'runid=metadata.run_id', ...storeFlags(database)])
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.include('names no role ("runid")')
    const quoted = await runCli(['analyze', '--column', "run_id=metadata.x') OR 1=1 --", ...storeFlags(database)])
    expect(quoted.code).to.equal(2)
    expect(quoted.stderr).to.match(/the key "x'\) OR 1=1 --" is not allowed/)
    const missing = await runCli(['run', '--target', app.url, '--logs', '100', '--column', 'app=nope', ...storeFlags(database)])
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.include('has no column "nope"')
    expect(app.stats.requests).to.equal(sentBefore)
  })
})

describe("your own pipeline: the guide's app and table on the embedded engine", function () {
  const database = uniqueDatabase('guide')
  let store: Store | undefined
  let app: GuideApp | undefined

  before(async () => {
    store = await openEmbeddedStore(database)
    app = await startGuideApp({writer: await storeWriter(store!, database, 'logs')})
  })

  after(async () => {
    await app?.close()
    if (store) await store.command(`DROP DATABASE IF EXISTS ${database}`)
    await store?.close()
  })

  it('parallel verifies, analyze skips only what the table lacks, and cleanup truncates the named table', async function () {
    this.timeout(180_000)
    const settings = parseLoadFlags({
      'batch-size': 1000,
      concurrency: 4,
      'logs-per-worker': 5000,
      'max-in-flight': 128,
      payload: 'wrapped',
      retries: 5,
      seed: 7,
      target: `${app!.url}/api/logs/batch`,
      timeout: '30s',
      verify: true,
      'verify-wait': '0s',
      workers: 4,
    })
    const outcome = await parallelSession({settings, spawn: nodeSpawner({binPath}), store, storeOptions: {}})
    expect(outcome.verdict).to.deep.include({failed: false})
    expect(outcome.result.verification).to.include({acked: 20_000, duplicated: 0, missing: 0, ok: true, stored: 20_000})

    const analysis = await analyze(store!, [...REPORT_NAMES], parseReportOptions({}), {skipUnsupported: true})
    expect(Object.keys(analysis.reports).sort()).to.deep.equal([...REPORTS_OF_THE_GUIDE_TABLE].sort())
    expect(analysis.skipped!.map((s) => s.report)).to.deep.equal(['lag'])
    expect(analysis.reports.total).to.include({apps: 4, logs: 20_000, runs: 1})

    const request = parseCleanupRequest({truncate: true})
    let refused: unknown
    await planCleanup(store!, request, {tableNamed: false}).catch((error: unknown) => (refused = error))
    expect((refused as Error).message).to.include('cleanup changes another table only when you name it')
    const plan = await planCleanup(store!, request, {tableNamed: true})
    const result = await executeCleanup(store!, request, plan)
    expect(result).to.include({removedRows: 20_000, rowsAfter: 0})
  })
})
