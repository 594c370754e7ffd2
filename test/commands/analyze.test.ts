import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {rmSync} from 'node:fs'
import {parse} from 'csv-parse/sync'

import type {Store} from '../../src/lib/store/index.js'

import {REPORT_NAMES} from '../../src/lib/analyze/index.js'
import {backends, binPath, runCli, serverUrl, storeOrSkip, tempDir, uniqueDatabase} from '../helpers.js'
import {countBy, insertRows, makeDataset} from '../lib/analyze/data.js'
import {inEmbeddedChild} from '../lib/analyze/embedded-child-client.js'

// eslint-disable-next-line no-control-regex
const visibleWidth = (line: string) => [...line.replaceAll(/\u001B\[[0-9;]*m/g, '')].length

describe('logbench analyze (CLI)', () => {
  describe('against ClickHouse 18.16', function () {
    let store: Store
    const rows = makeDataset({perRun: [3000, 1500, 900]})
    let target: string[]

    before(async function () {
      const server = backends.find((backend) => backend.name === 'server')!
      store = await storeOrSkip(this, server)
      await insertRows(store, rows)
      target = ['--clickhouse-url', serverUrl()!, '--database', store.info.database]
    })

    after(async () => {
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    it('--json prints one object with the store, the filters and every report', async () => {
      const result = await runCli(['analyze', '--json', ...target])
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json).to.have.all.keys('store', 'profile', 'generatedAt', 'filters', 'reports', 'skipped')
      expect(json.store).to.include({database: store.info.database, kind: 'server', table: 'logs', version: store.info.version.text})
      expect(json.reports).to.have.all.keys(...REPORT_NAMES)
      expect(json.reports.total).to.deep.include({apps: 4, logs: rows.length, runs: 3})
      expect(json.reports.apps.rows[0]).to.have.all.keys('app', 'logs', 'share')
      expect(json.reports.levels.total).to.equal(rows.length)
      expect(json.reports.runs.rows.map((row: {runId: string}) => row.runId)).to.deep.equal(['run-gamma', 'run-beta', 'run-alpha'])
      expect(json.reports.lag).to.include.all.keys('p50Ms', 'p99Ms', 'maxMs', 'resolutionMs')
      expect(json.reports.size.rows).to.equal(rows.length)
      expect(json.reports.partitions.rows[0]).to.have.all.keys('partition', 'parts', 'rows', 'bytesOnDisk', 'compressedBytes', 'uncompressedBytes')
      expect(json.reports.rates.buckets.reduce((sum: number, bucket: {logs: number}) => sum + bucket.logs, 0)).to.equal(rows.length)
    })

    it('--app "x\' OR 1=1 --" returns no rows and no error, in tables and in JSON', async () => {
      const human = await runCli(['analyze', 'total', 'apps', '--app', "x' OR 1=1 --", ...target])
      expect(human.code, human.stderr).to.equal(0)
      expect(human.stderr).to.equal('')
      expect(human.stdout).to.match(/logs\s+│\s+0 │/)
      expect(human.stdout).to.include('(no rows)')
      const json = await runCli(['analyze', 'apps', 'runs', '--app', "x' OR 1=1 --", '--json', ...target])
      expect(json.code, json.stderr).to.equal(0)
      const parsed = JSON.parse(json.stdout)
      expect(parsed.filters.apps).to.deep.equal(["x' OR 1=1 --"])
      expect(parsed.reports.apps).to.deep.equal({rows: [], total: 0, truncated: false})
      expect(parsed.reports.runs.rows).to.deep.equal([])
    })

    it('filters with --app, --level and --run-id (repeated or comma-separated)', async () => {
      const result = await runCli(['analyze', 'levels', '--json', '--app', 'payment-service,api-gateway', '--run-id', 'run-alpha', '--run-id', 'run-beta', '--level', 'warn,error', ...target])
      expect(result.code, result.stderr).to.equal(0)
      const want = countBy(
        rows.filter(
          (row) =>
            ['payment-service', 'api-gateway'].includes(row.app_id) && ['run-alpha', 'run-beta'].includes(row.run_id) && ['warn', 'error'].includes(row.level),
        ),
        (row) => row.level,
      )
      const json = JSON.parse(result.stdout)
      expect(Object.fromEntries(json.reports.levels.rows.map((row: {level: string; logs: number}) => [row.level, row.logs]))).to.deep.equal(Object.fromEntries(want))
    })

    it('--csv prints one report that a CSV parser reads', async () => {
      const result = await runCli(['analyze', 'rates', '--csv', '--bucket', '1s', ...target])
      expect(result.code, result.stderr).to.equal(0)
      const records = parse(result.stdout, {cast: true, columns: true}) as {bucket_start: string; bucket_ms: number; logs: number; logs_per_second: number; partial: string}[]
      expect(Object.keys(records[0])).to.deep.equal(['bucket_start', 'bucket_ms', 'logs', 'logs_per_second', 'partial'])
      expect(records.reduce((sum, record) => sum + record.logs, 0)).to.equal(rows.length)
      for (const record of records) {
        expect(record.bucket_ms).to.equal(1000)
        expect(record.logs_per_second).to.equal(record.logs)
        expect(Date.parse(record.bucket_start)).to.be.a('number').and.not.NaN
      }

      const apps = await runCli(['analyze', 'apps', '--csv', ...target])
      const appRecords = parse(apps.stdout, {columns: true}) as {app_id: string; logs: string}[]
      expect(appRecords.find((record) => record.app_id === "o'brien-svc")?.logs).to.equal(String(countBy(rows, (row) => row.app_id).get("o'brien-svc")))
    })

    it('prints tables with units in the headers and a rates chart that fits 80 columns', async () => {
      const result = await runCli(['analyze', 'rates', 'size', 'partitions', ...target])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/mean \(logs\/s\)/).and.match(/peak \(logs\/s\)/)
      expect(result.stdout).to.match(/on disk \((B|KiB|MiB)\)/)
      expect(result.stdout).to.include('one column per 5s bucket (UTC)')
      const chart = result.stdout.slice(result.stdout.indexOf('logs/s\n'), result.stdout.indexOf('bucket (UTC)') + 12)
      expect(chart.split('\n').length).to.be.at.least(10)
      for (const line of chart.split('\n')) expect(visibleWidth(line), line).to.be.at.most(80)
      expect(result.stdout).not.to.match(/\u001B\[/) // no colour when not a terminal
      const bucketTable = await runCli(['analyze', 'rates', '--no-chart', '--bucket', '10s', ...target])
      expect(bucketTable.stdout).to.match(/bucket start \(UTC\)\s+│\s+logs\s+│\s+logs\/s/)
      expect(bucketTable.stdout).not.to.include('one column per')
      expect(bucketTable.stdout).not.to.match(/ ┼─/)
    })

    it('exits 2 on a usage error, naming the bad value', async () => {
      const cases: [string[], RegExp][] = [
        [['analyze', 'totals'], /"totals" is not a report/],
        [['analyze', 'levels', '--level', 'loud'], /"loud" is not a log level/],
        [['analyze', 'apps', 'levels', '--csv'], /--csv prints one report/],
        [['analyze', '--since', 'yesterday'], /--since "yesterday" is not a time/],
        [['analyze', 'rates', '--bucket', '1s', '--watch', 'x'], /--watch "x" is not a duration/],
        [['analyze', 'rates', '--bucket', '1ms'], /finer than the table's time resolution/],
        [['analyze', '--target', 'http://127.0.0.1:1'], /either --target .* or --clickhouse-url/],
      ]
      for (const [args, pattern] of cases) {
        const result = await runCli([...args, ...target])
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2)
        expect(result.stderr, args.join(' ')).to.match(pattern)
        expect(result.stdout, args.join(' ')).to.equal('')
      }

      const json = await runCli(['analyze', 'nope', '--json', ...target])
      expect(json.code).to.equal(2)
      expect(JSON.parse(json.stdout).error).to.include({exitCode: 2, kind: 'usage'})
      const both = await runCli(['analyze', 'apps', '--csv', '--json', ...target])
      expect(both.code).to.equal(2)
      expect(JSON.parse(both.stdout).error.message).to.match(/--csv and --json cannot be used together/)
    })

    it('exits 3 when ClickHouse is unreachable', async () => {
      const result = await runCli(['analyze', 'total', '--clickhouse-url', 'http://127.0.0.1:1'])
      expect(result.code).to.equal(3)
      expect(result.stderr).to.include('cannot reach ClickHouse at http://127.0.0.1:1')
    })

    it('--watch redraws until Ctrl+C, then exits 0', async () => {
      const child = spawn(process.execPath, [binPath, 'analyze', 'total', '--watch', '300ms', ...target], {
        env: {...process.env, NO_COLOR: '1'},
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk) => (stdout += chunk))
      child.stderr.on('data', (chunk) => (stderr += chunk))
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
      const deadline = Date.now() + 30_000
      while ((stdout.match(/every 300ms · Ctrl\+C to stop/g) ?? []).length < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }

      child.kill('SIGINT')
      const code = await exited
      expect(code, stderr).to.equal(0)
      const frames = stdout.split('every 300ms · Ctrl+C to stop').length - 1
      expect(frames).to.be.at.least(3)
      expect(stdout.match(/logs\s+│\s+([\d,]+)/g)!.length).to.be.at.least(3)
      expect(stdout).to.include(`${rows.length.toLocaleString('en-US')} │`)
    })

    it('--help has a summary, a description, examples and described flags', async () => {
      const result = await runCli(['analyze', '--help'])
      expect(result.code).to.equal(0)
      expect(result.stdout).to.include("the guide's SQL reports")
      expect(result.stdout).to.match(/EXAMPLES/)
      expect(result.stdout).to.include('logbench analyze rates --since 30m --bucket 10s')
      for (const flag of ['--since', '--app', '--level', '--run-id', '--bucket', '--columns', '--csv', '--watch', '--target', '--json']) {
        expect(result.stdout).to.match(new RegExp(`${flag}[^\\n]*\\s{2,}\\S`), flag)
      }
    })
  })

  describe('against the embedded engine', () => {
    const dir = tempDir('logbench-analyze-cli-')
    const database = uniqueDatabase('lbanalyze')
    const now = Date.now()
    const rows = makeDataset({now, perRun: [1200, 600, 300]})

    before(async () => {
      await inEmbeddedChild({database, dataDir: dir, seed: {now, perRun: [1200, 600, 300]}})
    })

    after(() => rmSync(dir, {force: true, recursive: true}))

    it('reads a data directory given with --data-dir', async () => {
      const result = await runCli(['analyze', 'total', 'levels', 'size', '--columns', '--json', '--data-dir', dir, '--database', database])
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json.store.kind).to.equal('embedded')
      expect(json.reports.total.logs).to.equal(rows.length)
      const want = countBy(rows, (row) => row.level)
      expect(Object.fromEntries(json.reports.levels.rows.map((row: {level: string; logs: number}) => [row.level, row.logs]))).to.deep.equal(Object.fromEntries(want))
      expect(json.reports.size.columns).to.have.length(10)
    })

    it('--app with an injection attempt: no rows, no error', async () => {
      const result = await runCli(['analyze', 'total', '--json', '--app', "x' OR 1=1 --", '--data-dir', dir, '--database', database])
      expect(result.code, result.stderr).to.equal(0)
      expect(JSON.parse(result.stdout).reports.total.logs).to.equal(0)
    })
  })
})
