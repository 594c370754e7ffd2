import {expect} from 'chai'

import type {Store} from '../../../src/lib/store/index.js'

import {type AnalysisResult, parseReportOptions} from '../../../src/lib/analyze/index.js'
import {reportOptionsFromSearchParams, reportOptionsToSearchParams, reportOverHttp} from '../../../src/lib/analyze/http.js'
import {backends, storeOrSkip} from '../../helpers.js'
import {countBy, insertRows, makeDataset} from './data.js'

describe('analyze over HTTP: query strings', () => {
  it('round-trips report options through a query string', () => {
    const options = parseReportOptions({apps: ["x' OR 1=1 --", 'b'], bucket: '10s', columns: true, levels: ['warn'], limit: 7, runIds: ['r'], since: '1h'})
    const params = reportOptionsToSearchParams(options)
    expect(params.getAll('app')).to.deep.equal(["x' OR 1=1 --", 'b'])
    expect(reportOptionsFromSearchParams(params)).to.deep.equal(options)
  })

  it('refuses unknown, repeated and malformed parameters as usage errors', () => {
    const bad = (query: string, pattern: RegExp) => {
      expect(() => reportOptionsFromSearchParams(new URLSearchParams(query))).to.throw(pattern)
    }

    bad('apps=a', /unknown query parameter "apps"/)
    bad('limit=1&limit=2', /given 2 times/)
    bad('level=loud', /not a log level/)
    bad('columns=maybe', /columns="maybe"/)
    bad('since=someday', /not a time/)
  })
})

for (const backend of backends) {
  describe(`reportOverHttp on the ${backend.name} back end`, function () {
    let store: Store
    const rows = makeDataset({perRun: [1500, 900, 600]})

    before(async function () {
      store = await storeOrSkip(this, backend)
      await insertRows(store, rows)
    })

    after(async () => {
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    it('answers 200 with one report, filters applied', async () => {
      const reply = await reportOverHttp(store, 'apps', new URLSearchParams({level: 'error', run_id: 'run-beta'}))
      expect(reply.status).to.equal(200)
      const body = reply.body as AnalysisResult
      expect(body).to.have.all.keys('store', 'profile', 'generatedAt', 'filters', 'reports', 'skipped')
      expect(body.reports).to.have.all.keys('apps')
      expect(body.filters).to.deep.include({levels: ['error'], runIds: ['run-beta']})
      const want = countBy(
        rows.filter((row) => row.level === 'error' && row.run_id === 'run-beta'),
        (row) => row.app_id,
      )
      expect(Object.fromEntries(body.reports.apps!.rows.map((row) => [row.app, row.logs]))).to.deep.equal(Object.fromEntries(want))
      expect(JSON.parse(JSON.stringify(body))).to.deep.equal(body)
    })

    it('treats a hostile app filter as a value: 200, no rows', async () => {
      const reply = await reportOverHttp(store, 'total', new URLSearchParams({app: "x' OR 1=1 --"}))
      expect(reply.status).to.equal(200)
      expect((reply.body as AnalysisResult).reports.total!.logs).to.equal(0)
    })

    it('answers 404 with {error} for an unknown report, 400 for a bad filter', async () => {
      const unknown = await reportOverHttp(store, 'drop_table', new URLSearchParams())
      expect(unknown.status).to.equal(404)
      expect(unknown.body).to.have.property('error').that.includes('unknown report "drop_table"')
      const badLevel = await reportOverHttp(store, 'levels', new URLSearchParams({level: 'loud'}))
      expect(badLevel.status).to.equal(400)
      expect(badLevel.body).to.have.property('error').that.includes('"loud" is not a log level')
      const badBucket = await reportOverHttp(store, 'rates', new URLSearchParams({bucket: '1s', since: 'soon'}))
      expect(badBucket.status).to.equal(400)
    })

    it('answers every report the CLI has, read-only', async () => {
      const [{before}] = await store.query<{before: number}>(`SELECT count() AS before FROM ${store.tableRef}`)
      for (const name of ['total', 'apps', 'levels', 'rates', 'runs', 'lag', 'size', 'partitions']) {
        const reply = await reportOverHttp(store, name, new URLSearchParams(name === 'size' ? {columns: '1'} : {}))
        expect(reply.status, name).to.equal(200)
        expect((reply.body as AnalysisResult).reports, name).to.have.all.keys(name)
      }

      const [{after}] = await store.query<{after: number}>(`SELECT count() AS after FROM ${store.tableRef}`)
      expect(after).to.equal(before).and.to.equal(rows.length)
    })
  })
}

after(() => {
  for (const backend of backends) backend.cleanup()
})
