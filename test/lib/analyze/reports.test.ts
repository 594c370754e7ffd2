import {expect} from 'chai'
import {parse} from 'csv-parse/sync'

import type {LogRow, Store} from '../../../src/lib/store/index.js'

import {analyze, type AnalysisResult, parseReportOptions, REPORT_NAMES, type ReportName} from '../../../src/lib/analyze/index.js'
import {reportCsv} from '../../../src/lib/analyze/render.js'
import {backends, storeOrSkip} from '../../helpers.js'
import {APPS, countBy, insertRows, makeDataset, quantileExact, RUNS, stored} from './data.js'
import {GUIDE, runGuide} from './guide.js'

for (const backend of backends) {
  describe(`analyze reports on the ${backend.name} back end`, function () {
    let store: Store
    let rows: LogRow[]
    let all: AnalysisResult

    const run = (names: ReportName[], raw: Parameters<typeof parseReportOptions>[0] = {}) => analyze(store, names, parseReportOptions(raw))

    before(async function () {
      store = await storeOrSkip(this, backend)
      rows = makeDataset()
      await insertRows(store, rows)
      // One part per partition from here on, so system.parts cannot change between two queries.
      await store.command(`OPTIMIZE TABLE ${store.tableRef} FINAL`)
      all = await run([...REPORT_NAMES], {columns: true})
    })

    after(async () => {
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    it('total agrees with the guide\'s "Total Logs Ingested"', async () => {
      const [[guideTotal]] = await runGuide(store, GUIDE.total)
      expect(all.reports.total!.logs).to.equal(Number(guideTotal)).and.to.equal(rows.length)
      const caps = store.info.capabilities
      const created = rows.map((row) => stored(row.created_at, caps))
      expect(all.reports.total!.firstCreatedAt).to.equal(new Date(Math.min(...created)).toISOString())
      expect(all.reports.total!.lastCreatedAt).to.equal(new Date(Math.max(...created)).toISOString())
      expect(all.reports.total!.apps).to.equal(APPS.length)
      expect(all.reports.total!.runs).to.equal(RUNS.length)
    })

    it('apps agrees with the guide\'s "Logs per Application", biggest first', async () => {
      const guide = await runGuide(store, GUIDE.apps)
      const ours = all.reports.apps!
      expect(ours.rows.map((row) => [row.app, String(row.logs)])).to.have.deep.members(guide)
      expect(ours.rows.map((row) => row.logs)).to.deep.equal(guide.map(([, count]) => Number(count)))
      expect(ours.total).to.equal(rows.length)
      expect(ours.rows.reduce((sum, row) => sum + row.share, 0)).to.be.closeTo(1, 1e-9)
      expect(ours.rows.find((row) => row.app === "o'brien-svc")?.logs).to.equal(countBy(rows, (row) => row.app_id).get("o'brien-svc"))
    })

    it('levels agrees with the guide\'s "Logs per Level"', async () => {
      const guide = await runGuide(store, GUIDE.levels)
      expect(all.reports.levels!.rows.map((row) => [row.level, String(row.logs)])).to.have.deep.members(guide)
      expect(all.reports.levels!.rows.map((row) => row.logs)).to.deep.equal(guide.map(([, count]) => Number(count)))
    })

    it('rates in 1-minute buckets reproduce the guide\'s "Ingestion Rate Over Time"', async () => {
      const guide = await runGuide(store, GUIDE.rates)
      expect(guide.length, 'three minutes of data span at least three minutes').to.be.within(3, 5)
      const rates = (await run(['rates'], {bucket: '1m', since: '30m'})).reports.rates!
      expect(rates.bucketMs).to.equal(60_000)
      const nonEmpty = rates.buckets.filter((bucket) => bucket.logs > 0).reverse() // the guide lists newest first
      expect(nonEmpty.map((bucket) => bucket.logs)).to.deep.equal(guide.map(([, perMinute]) => Number(perMinute)))
      for (const [i, bucket] of nonEmpty.entries()) {
        expect(bucket.start.slice(0, 19).replace('T', ' ')).to.equal(guide[i][0])
        // Whole minutes agree with the guide; the first and last minute are rated over the part the
        // data covers, where the guide's count / 60 understates them.
        if (bucket.partial) expect(bucket.logsPerSecond).to.be.at.least(bucket.logs / 60)
        else {
          expect(bucket.logsPerSecond).to.equal(bucket.logs / 60)
          // The guide rounds to a whole number; how a half rounds differs between ClickHouse releases
          // (18.16 rounds 66.5 up, current releases to even), so a half may go either way.
          expect(Math.abs(bucket.logsPerSecond - Number(guide[i][2])), bucket.start).to.be.at.most(0.5)
        }
      }
    })

    it('rates in 1-second buckets show the burst the guide\'s per-minute average hides', async () => {
      const guide = await runGuide(store, GUIDE.rates)
      const rates = all.reports.rates!
      expect(rates.bucketSource).to.equal('auto')
      expect(rates.bucketMs).to.equal(5000) // 3 minutes of data in at most 60 buckets
      const fine = (await run(['rates'], {bucket: '1s'})).reports.rates!
      expect(fine.buckets.reduce((sum, bucket) => sum + bucket.logs, 0)).to.equal(rows.length)
      const guidePeak = Math.max(...guide.map(([, , perSecond]) => Number(perSecond)))
      expect(fine.peakPerSecond).to.be.greaterThan(guidePeak * 3)
      // The burst: run-alpha put a third of its rows in 3 seconds starting 40 s in.
      const burstStart = Math.floor(Math.min(...rows.filter((row) => row.run_id === 'run-alpha').map((row) => row.created_at)) / 1000) * 1000
      expect(Date.parse(fine.peakAt!)).to.be.within(burstStart + 39_000, burstStart + 44_000)
      // Per-second counts match the rows we inserted, empty seconds included.
      const perSecond = countBy(rows, (row) => String(Math.floor(row.created_at / 1000) * 1000))
      for (const bucket of fine.buckets) expect(bucket.logs, bucket.start).to.equal(perSecond.get(String(Date.parse(bucket.start))) ?? 0)
      expect(fine.meanPerSecond).to.be.closeTo(rows.length / (fine.activeMs / 1000), 1e-9)
      expect(fine.peakPerSecond!).to.be.at.least(fine.meanPerSecond!)
      expect(fine.buckets.length).to.equal(Math.floor(Date.parse(fine.lastCreatedAt!) / 1000) - Math.floor(Date.parse(fine.firstCreatedAt!) / 1000) + 1)
    })

    it('size agrees with the corrected guide query, and the guide\'s own query really is broken', async () => {
      let failure: unknown
      try {
        await runGuide(store, GUIDE.size)
      } catch (error) {
        failure = error
      }

      expect(String((failure as Error)?.message), 'the guide size query should fail').to.match(/aggregate function .*inside another aggregate function/i)
      const [[table, , sizeBytes, totalRows, bytesPerRow]] = await runGuide(store, GUIDE.sizeCorrected)
      const size = all.reports.size!
      expect(table).to.equal('logs')
      expect(size.rows).to.equal(Number(totalRows)).and.to.equal(rows.length)
      expect(size.bytesOnDisk).to.equal(Number(sizeBytes))
      // The guide rounds to 2 decimals, a half either way by release: within 0.005 of the exact value.
      expect(size.bytesPerRow!).to.be.closeTo(Number(bytesPerRow), 0.005 + 1e-9)
      expect(size.compressedBytes).to.be.greaterThan(0)
      expect(size.uncompressedBytes).to.be.greaterThan(size.compressedBytes)
      expect(size.compressionRatio).to.be.closeTo(size.uncompressedBytes / size.compressedBytes, 1e-9)
      expect(size.parts).to.be.at.least(1)
    })

    it('size --columns lists every column, with sizes where ClickHouse keeps them', async () => {
      const {columns, columnsNote} = all.reports.size!
      expect(columns!.map((column) => column.column)).to.have.members([
        'timestamp',
        'created_at',
        'app_id',
        'level',
        'message',
        'source',
        'metadata',
        'run_id',
        'seq',
        'batch_id',
      ])
      const known = columns!.filter((column) => column.compressedBytes !== null)
      // What the engine says of the table's parts: servers before compact parts (20.3) have only
      // wide ones, and no part_type column in system.parts.
      const [hasPartType] = await store.query<{n: number}>("SELECT count() AS n FROM system.columns WHERE database = 'system' AND table = 'parts' AND name = 'part_type'")
      const types = hasPartType.n > 0
        ? (await store.query<{t: string}>('SELECT DISTINCT part_type AS t FROM system.parts WHERE database = {db:String} AND table = {t:String} AND active', {db: store.info.database, t: store.info.table})).map((row) => row.t)
        : ['Wide']
      if (types.every((type) => type !== 'Wide')) {
        // Compact parts keep no per-column sizes, and the report says why.
        expect(known).to.deep.equal([])
        expect(columnsNote).to.match(/^all \d+ active parts are compact/)
        return
      }

      // Wide parts keep every column in files of its own: every column has its sizes.
      expect(known.map((column) => column.column)).to.have.members(columns!.map((column) => column.column))
      expect(known.reduce((sum, column) => sum + column.share!, 0)).to.be.closeTo(1, 1e-9)
      expect(known[0].compressedBytes).to.be.at.least(known.at(-1)!.compressedBytes!)
      if (types.every((type) => type === 'Wide')) expect(columnsNote).to.equal(undefined)
      else expect(columnsNote).to.match(/^per-column sizes cover the \d+ wide parts/)
    })

    it('partitions agrees with the guide\'s "Partition Information"', async () => {
      const guide = await runGuide(store, GUIDE.partitions)
      expect(guide.length).to.be.at.least(1)
      const ours = all.reports.partitions!
      expect(ours.rows.map((row) => [row.partition, String(row.parts), String(row.rows)])).to.deep.equal(
        guide.map(([partition, parts, , rowCount]) => [partition, parts, rowCount]),
      )
      for (const [i, row] of ours.rows.entries()) {
        const [{readable}] = await store.query<{readable: string}>('SELECT formatReadableSize({b:UInt64}) AS readable', {b: row.bytesOnDisk})
        expect(readable).to.equal(guide[i][2])
      }
    })

    it('runs gives each run its count, first and last created_at and rate', () => {
      const caps = store.info.capabilities
      const resolution = caps.dateTime64 ? 1 : 1000
      const runs = all.reports.runs!
      expect(runs.truncated).to.equal(false)
      expect(runs.rows.map((row) => row.runId)).to.deep.equal(['run-gamma', 'run-beta', 'run-alpha']) // newest first
      for (const row of runs.rows) {
        const mine = rows.filter((r) => r.run_id === row.runId).map((r) => stored(r.created_at, caps))
        const first = Math.min(...mine)
        const last = Math.max(...mine)
        expect(row.logs).to.equal(mine.length)
        expect(row.firstCreatedAt).to.equal(new Date(first).toISOString())
        expect(row.lastCreatedAt).to.equal(new Date(last).toISOString())
        expect(row.durationMs).to.equal(last - first + resolution)
        expect(row.logsPerSecond).to.be.closeTo(mine.length / ((last - first + resolution) / 1000), 1e-9)
      }
    })

    it('lag gives exact quantiles of created_at minus timestamp', () => {
      const caps = store.info.capabilities
      const delays = rows.map((row) => stored(row.created_at, caps) - stored(row.timestamp, caps)).sort((a, b) => a - b)
      const lag = all.reports.lag!
      expect(lag.logs).to.equal(rows.length)
      expect(lag.resolutionMs).to.equal(caps.dateTime64 ? 1 : 1000)
      expect(lag.minMs).to.equal(delays[0])
      expect(lag.maxMs).to.equal(delays.at(-1))
      expect(lag.p50Ms).to.equal(quantileExact(delays, 0.5))
      expect(lag.p90Ms).to.equal(quantileExact(delays, 0.9))
      expect(lag.p99Ms).to.equal(quantileExact(delays, 0.99))
      expect(lag.meanMs).to.be.closeTo(delays.reduce((sum, d) => sum + d, 0) / delays.length, 1e-6)
      expect(lag.negative).to.equal(delays.filter((d) => d < 0).length)
      expect(lag.negative).to.be.greaterThan(0)
    })

    it('an injection attempt in --app is only a value: no rows, no error', async () => {
      const hostile = "x' OR 1=1 --"
      const result = await run([...REPORT_NAMES], {apps: [hostile]})
      expect(result.reports.total!.logs).to.equal(0)
      expect(result.reports.apps!.rows).to.deep.equal([])
      expect(result.reports.levels!.rows).to.deep.equal([])
      expect(result.reports.runs!.rows).to.deep.equal([])
      expect(result.reports.rates!.buckets).to.deep.equal([])
      expect(result.reports.lag!.p50Ms).to.equal(null)
      expect(result.filters.apps).to.deep.equal([hostile])
      for (const attempt of ["' OR ''='", "\\' OR 1=1 --", 'a\\', "{f_app0:String}", "payment-service') OR ('1'='1"]) {
        const {reports} = await run(['total'], {apps: [attempt], runIds: [attempt]})
        expect(reports.total!.logs, attempt).to.equal(0)
      }
    })

    it('filters by app (a value with a quote), level, run id and time, alone and together', async () => {
      const caps = store.info.capabilities
      const count = (keep: (row: LogRow) => boolean) => rows.filter(keep).length
      const total = async (raw: Parameters<typeof parseReportOptions>[0]) => (await run(['total'], raw)).reports.total!.logs
      expect(await total({apps: ["o'brien-svc"]})).to.equal(count((row) => row.app_id === "o'brien-svc"))
      expect(await total({apps: ['auth-service', 'api-gateway']})).to.equal(count((row) => row.app_id === 'auth-service' || row.app_id === 'api-gateway'))
      expect(await total({levels: ['error', 'fatal']})).to.equal(count((row) => row.level === 'error' || row.level === 'fatal'))
      expect(await total({runIds: ['run-beta']})).to.equal(count((row) => row.run_id === 'run-beta'))
      const cut = rows.reduce((max, row) => Math.max(max, row.created_at), 0) - 60_000
      const since = new Date(cut).toISOString()
      expect(await total({since})).to.equal(count((row) => stored(row.created_at, caps) >= stored(cut, caps)))
      expect(await total({apps: ['payment-service'], levels: ['warn'], runIds: ['run-alpha', 'run-gamma'], since})).to.equal(
        count(
          (row) =>
            row.app_id === 'payment-service' &&
            row.level === 'warn' &&
            (row.run_id === 'run-alpha' || row.run_id === 'run-gamma') &&
            stored(row.created_at, caps) >= stored(cut, caps),
        ),
      )
      const apps = (await run(['apps'], {runIds: ['run-gamma']})).reports.apps!
      expect(apps.total).to.equal(count((row) => row.run_id === 'run-gamma'))
    })

    it('cuts apps, runs and partitions at --limit and says so', async () => {
      const {reports} = await run(['apps', 'runs'], {limit: 2})
      expect(reports.apps!.rows).to.have.length(2)
      expect(reports.apps!.truncated).to.equal(true)
      expect(reports.apps!.total).to.equal(rows.length) // shares stay relative to every matching log
      expect(reports.runs!.rows.map((row) => row.runId)).to.deep.equal(['run-gamma', 'run-beta'])
      expect(reports.runs!.truncated).to.equal(true)
    })

    it('returns one object per analysis, with the store, the filters and every report asked for', () => {
      expect(all).to.have.all.keys('store', 'profile', 'generatedAt', 'filters', 'reports', 'skipped')
      expect(all.store).to.include({database: store.info.database, kind: backend.name, table: 'logs'})
      expect(all.store.version).to.equal(store.info.version.text)
      expect(Date.parse(all.generatedAt)).to.be.closeTo(Date.now(), 120_000)
      expect(all.filters).to.deep.equal({apps: [], before: null, levels: [], runIds: [], since: null})
      expect(all.reports).to.have.all.keys(...REPORT_NAMES)
      expect(all.reports.rates).to.include.all.keys('bucketMs', 'bucketSource', 'meanPerSecond', 'peakPerSecond', 'peakAt', 'buckets', 'activeMs')
      expect(all.reports.rates!.buckets[0]).to.have.all.keys('start', 'logs', 'logsPerSecond', 'partial')
      expect(JSON.parse(JSON.stringify(all))).to.deep.equal(all) // plain JSON, no bigint or Date
    })

    it('prints every report as CSV that a CSV parser reads back to the same numbers', () => {
      for (const name of REPORT_NAMES) {
        const records = parse(reportCsv(all, name), {columns: true}) as Record<string, string>[]
        expect(records.length, name).to.be.at.least(1)
        expect(Object.keys(records[0]).length, name).to.be.at.least(3)
      }

      const apps = parse(reportCsv(all, 'apps'), {columns: true}) as Record<string, string>[]
      expect(apps.map((record) => [record.app_id, Number(record.logs)])).to.deep.equal(all.reports.apps!.rows.map((row) => [row.app, row.logs]))
      const rates = parse(reportCsv(all, 'rates'), {cast: true, columns: true}) as Record<string, unknown>[]
      expect(rates.map((record) => record.logs)).to.deep.equal(all.reports.rates!.buckets.map((bucket) => bucket.logs))
      expect(rates[0]).to.have.all.keys('bucket_start', 'bucket_ms', 'logs', 'logs_per_second', 'partial')
      const columns = parse(reportCsv(all, 'size'), {columns: true}) as Record<string, string>[]
      expect(columns.map((record) => record.column)).to.include('created_at')
    })

    it('says which table is missing instead of failing on SQL', async () => {
      const {openStore} = await import('../../../src/lib/store/index.js')
      const other = await openStore({...backend.options(store.info.database)!, table: 'no_such_table'})
      try {
        await analyze(other, ['total'], parseReportOptions({}))
        expect.fail('should have thrown')
      } catch (error) {
        expect((error as {kind?: string}).kind).to.equal('environment')
        expect((error as Error).message).to.include(`${store.info.database}.no_such_table does not exist`)
      } finally {
        // A second embedded session shares the process's engine: closing it could close the suite's one.
        if (backend.name === 'server') await other.close()
      }
    })
  })
}

after(() => {
  for (const backend of backends) backend.cleanup()
})
