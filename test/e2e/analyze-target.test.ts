/**
 * `analyze --target`: the built CLI asks a running serve for its reports. The
 * serve side is the real ingest server in this process, with its report routes
 * (GET /api/reports/<name>) over a store this process holds open: for the embedded
 * engine that is the real situation, the data directory is locked by the serving
 * process and the CLI cannot open it.
 */
import {expect} from 'chai'

import type {Store} from '../../src/lib/store/index.js'

import {analyze, parseReportOptions, REPORT_NAMES} from '../../src/lib/analyze/index.js'
import {reportOverHttp} from '../../src/lib/analyze/http.js'
import {startIngestServer} from '../../src/lib/ingest/index.js'
import {backends, runCli, storeOrSkip} from '../helpers.js'
import {insertRows, makeDataset} from '../lib/analyze/data.js'

/** The real serve (startIngestServer) over this store, with a token, noting each report request. */
async function serveReports(store: Store, seen: string[]): Promise<{url: string; close: () => Promise<void>}> {
  const server = await startIngestServer({
    port: 0,
    reports(name, params) {
      const query = params.toString()
      seen.push(`/api/reports/${encodeURIComponent(name)}${query ? '?' + query : ''}`)
      return reportOverHttp(store, name, params)
    },
    store,
    token: TOKEN,
  })
  return {close: () => server.stop(), url: server.url}
}

const TOKEN = 'report-token'

for (const backend of backends) {
  describe(`analyze --target, serve holding the ${backend.name} store`, function () {
    let store: Store
    let served: {url: string; close: () => Promise<void>}
    const seen: string[] = []
    const rows = makeDataset({perRun: [2000, 1000, 500]})

    before(async function () {
      store = await storeOrSkip(this, backend)
      await insertRows(store, rows)
      await store.command(`OPTIMIZE TABLE ${store.tableRef} FINAL`)
      served = await serveReports(store, seen)
    })

    after(async () => {
      await served?.close()
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    beforeEach(() => {
      seen.length = 0
    })

    it('prints the same JSON as a direct analysis, one request per report', async () => {
      const result = await runCli(['analyze', '--json', '--target', served.url], {env: {LOGBENCH_TOKEN: TOKEN}})
      expect(result.code, result.stderr).to.equal(0)
      const remote = JSON.parse(result.stdout)
      const local = await analyze(store, [...REPORT_NAMES], parseReportOptions({}))
      expect(remote.store).to.deep.equal(local.store)
      expect(remote.reports).to.have.all.keys(...REPORT_NAMES)
      expect(remote.reports).to.deep.equal(local.reports)
      expect(remote.reports.total.logs).to.equal(rows.length)
      expect(seen.map((url) => url.split('?')[0])).to.deep.equal(REPORT_NAMES.map((name) => `/api/reports/${name}`))
    })

    it('sends the filters as query parameters, and a hostile --app stays a value', async () => {
      const result = await runCli(['analyze', 'total', 'apps', '--json', '--app', "x' OR 1=1 --", '--level', 'error', '--target', served.url], {env: {LOGBENCH_TOKEN: TOKEN}})
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json.reports.total.logs).to.equal(0)
      expect(json.reports.apps.rows).to.deep.equal([])
      expect(json.filters).to.deep.include({apps: ["x' OR 1=1 --"], levels: ['error']})
      const query = new URL(seen[0], 'http://x').searchParams
      expect(query.getAll('app')).to.deep.equal(["x' OR 1=1 --"])
      expect(query.getAll('level')).to.deep.equal(['error'])
    })

    it('renders tables and the rates chart from the served report', async () => {
      const result = await runCli(['analyze', 'rates', '--bucket', '10s', '--target', served.url], {env: {LOGBENCH_TOKEN: TOKEN}})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.include(`on ${backend.name === 'server' ? 'ClickHouse' : 'embedded ClickHouse'} ${store.info.version.text}`)
      expect(result.stdout).to.include('one column per 10s bucket (UTC)')
      expect(result.stdout).to.match(/logs\s+│\s+3,500 │/)
      expect(new URL(seen[0], 'http://x').searchParams.get('bucket')).to.equal('10000ms')
    })

    it('exits 3 when the target is not a serve with reports, refuses the token, or is not there', async () => {
      const notServe = await runCli(['analyze', 'total', '--target', `${served.url}/elsewhere`], {env: {LOGBENCH_TOKEN: TOKEN}})
      expect(notServe.code).to.equal(3)
      expect(notServe.stderr).to.match(/has no report endpoint/)
      const noToken = await runCli(['analyze', 'total', '--target', served.url], {env: {LOGBENCH_TOKEN: ''}})
      expect(noToken.code).to.equal(3)
      expect(noToken.stderr).to.include('LOGBENCH_TOKEN')
      const gone = await runCli(['analyze', 'total', '--target', 'http://127.0.0.1:1'])
      expect(gone.code).to.equal(3)
      expect(gone.stderr).to.include('cannot reach logbench serve at http://127.0.0.1:1 (ECONNREFUSED)')
    })
  })
}

after(() => {
  for (const backend of backends) backend.cleanup()
})
