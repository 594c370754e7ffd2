import {expect} from 'chai'
import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'

import {partsWarnings, readPartsLimits, sampleClickHouse, sampleQuery, storedPerInterval, tableSettingsLimits} from '../../../../src/lib/load/measure/clickhouse-view.js'
import {createDatabaseSql, createTableSql} from '../../../../src/lib/store/schema.js'
import {openStore, type Store} from '../../../../src/lib/store/index.js'
import {backends, requireServerUrl, runCli, storeOrSkip, tempDir, uniqueDatabase, waitUntil} from '../../../helpers.js'
import {startSink} from '../sink.js'

describe('load/measure/clickhouse-view', () => {
  it('reads parts limits from a table\'s SETTINGS', () => {
    expect(tableSettingsLimits('MergeTree PARTITION BY d ORDER BY x SETTINGS parts_to_delay_insert = 6, parts_to_throw_insert = 50, index_granularity = 8192')).to.deep.equal({
      partsToDelayInsert: 6,
      partsToThrowInsert: 50,
    })
    expect(tableSettingsLimits('MergeTree ORDER BY x SETTINGS index_granularity = 8192')).to.deep.equal({partsToDelayInsert: undefined, partsToThrowInsert: undefined})
  })

  it('warns past half of parts_to_delay_insert and flags reaching it or parts_to_throw_insert', () => {
    const sample = (parts: number) => ({activeParts: parts, at: 0, delayedInserts: 0, insertedRows: 0, maxPartsPerPartition: parts, memoryBytes: 0, merges: 0, queryCpuMs: 0, rejectedInserts: 0})
    const limits = {partsToDelayInsert: 10, partsToThrowInsert: 20, source: 'table' as const}
    expect(partsWarnings([sample(5)], limits, 't')).to.deep.equal([])
    expect(partsWarnings([sample(6)], limits, 't')[0]).to.match(/past half of parts_to_delay_insert = 10 \(table setting\)/)
    expect(partsWarnings([sample(10)], limits, 't')[0]).to.match(/reached 10 .*parts_to_delay_insert = 10.*slowed down/)
    expect(partsWarnings([sample(20)], limits, 't')[0]).to.match(/parts_to_throw_insert = 20.*Too many parts/)
  })

  for (const backend of backends) {
    describe(`on the ${backend.name} back end`, () => {
      let store: Store
      before(async function () {
        store = await storeOrSkip(this, backend)
      })

      after(async () => {
        await store?.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``).catch(() => {})
        await store?.close()
      })

      it('samples rows inserted, parts, merges and memory in one query an interval, and reads the stored rate', async () => {
        // The sampling queries, counted as they are answered: the test waits for them, not for time.
        const sql = sampleQuery(store.info.database, store.info.table)
        let answered = 0
        const watched = new Proxy(store, {
          get(target, property) {
            if (property === 'query') {
              return async (...args: Parameters<Store['query']>) => {
                const rows = await target.query(...args)
                if (args[0] === sql) answered++
                return rows
              }
            }

            const value = Reflect.get(target, property)
            return typeof value === 'function' ? value.bind(target) : value
          },
        })
        const sampler = sampleClickHouse(watched, {intervalMs: 200})
        await sampler.ready
        expect(answered, 'the baseline').to.equal(1)
        const now = Date.now()
        for (let i = 0; i < 4; i++) {
          const row = {app_id: 'a', batch_id: 'b', created_at: now, level: 'info', message: 'm', metadata: '', run_id: 'run-view', seq: i, source: 's', timestamp: now}
          const time = store.info.capabilities.dateTime64 ? now : Math.floor(now / 1000)
          await store.insert(JSON.stringify({...row, created_at: time, timestamp: time}) + '\n')
        }

        await waitUntil(() => answered >= 4, 'three samples after the baseline')
        const view = await sampler.stop()
        expect(view.errors).to.deep.equal([])
        // One sample for each query answered after the baseline, the last one taken by stop().
        expect(view.samples.length).to.equal(answered - 1)
        const ats = view.samples.map((sample) => sample.at)
        expect(ats.every((at) => at % 200 === 0)).to.equal(true)
        expect([...ats].sort((a, b) => a - b)).to.deep.equal(ats)
        expect(new Set(ats).size).to.equal(ats.length)
        // The four inserts happened between the baseline and the last sample.
        expect(view.samples.reduce((sum, s) => sum + s.insertedRows, 0)).to.be.at.least(4)
        expect(view.samples.at(-1)!.activeParts).to.be.at.least(1)
        expect(Math.max(...view.samples.map((s) => s.memoryBytes))).to.be.greaterThan(0)
        expect(view.limits.partsToDelayInsert).to.be.greaterThan(0)
        const stored = await storedPerInterval(store, 'run-view', {ingestTime: 'created_at', runId: 'run_id'}, 1000)
        expect(stored.intervals.reduce((sum, s) => sum + s.rows, 0)).to.equal(4)
      })
    })
  }

  it('on a ClickHouse server: one INSERT a request into a table with a low parts_to_delay_insert and merges stopped: parts rise to the number of INSERTs, and the warning is in the report', async function () {
    const url = requireServerUrl(this)
    const database = uniqueDatabase('lbparts')
    const admin = await openStore({clickhouseUrl: url, database})
    const dir = tempDir('logbench-parts-')
    try {
      await admin.command(createDatabaseSql(database))
      // A table that delays inserts early, fed the guide's way: one small INSERT a request. With its
      // merges stopped every INSERT stays a part of its own, so the count does not race the merger.
      const ddl = createTableSql(database, admin.info.table, admin.info.capabilities).replace(/\nSETTINGS .*$/s, '') + '\nSETTINGS parts_to_delay_insert = 8, parts_to_throw_insert = 1000'
      await admin.command(ddl)
      await admin.command(`SYSTEM STOP MERGES ${admin.tableRef}`)
      expect((await readPartsLimits(admin, database, admin.info.table)).source).to.equal('table')
      const sink = await startSink({store: admin})
      const report = path.join(dir, 'parts.html')
      let run
      try {
        run = await runCli(['run', '--target', sink.url, '--clickhouse-url', url, '--database', database, '--batch-size', '5', '--concurrency', '4', '--logs', '100', '--json', '--report', report])
      } finally {
        await sink.stop()
      }

      expect(run.code, run.stderr).to.equal(0)
      expect(sink.requests).to.equal(20)
      const json = JSON.parse(run.stdout)
      const view = json.clickhouse
      expect(view.table).to.equal(`${database}.${admin.info.table}`)
      expect(view.limits).to.deep.equal({partsToDelayInsert: 8, partsToThrowInsert: 1000, source: 'table'})
      // The last sample, taken once every INSERT was answered, sees the parts the server lists now.
      const [{fullest, total}] = await admin.query<{fullest: number; total: number}>(
        `SELECT max(n) AS fullest, sum(n) AS total FROM (SELECT count() AS n FROM system.parts WHERE database = {db:String} AND table = {t:String} AND active GROUP BY partition)`,
        {db: database, t: admin.info.table},
      )
      expect(total).to.equal(20)
      expect(fullest, 'one part for each INSERT of a partition').to.be.at.least(10)
      const parts = view.samples.map((s: {maxPartsPerPartition: number}) => s.maxPartsPerPartition)
      expect(Math.max(...parts), JSON.stringify(parts)).to.equal(fullest)
      expect(view.warnings.join('\n')).to.include(`reached ${fullest} active parts in one partition: parts_to_delay_insert = 8 (table setting), so INSERTs were slowed down`)
      expect(view.stored.intervals.reduce((sum: number, s: {rows: number}) => sum + s.rows, 0)).to.equal(json.logs.acked)
      const html = readFileSync(report, 'utf8')
      expect(html).to.include('class="warnings"').and.include('parts_to_delay_insert = 8 (table setting)')
      expect(html).to.include('data-chart="clickhouse-parts"').and.include('data-reference="parts_to_delay_insert"')
    } finally {
      await admin.command(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {})
      await admin.close()
      rmSync(dir, {force: true, recursive: true})
    }
  })
})
