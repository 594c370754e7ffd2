import {expect} from 'chai'

import type {LogRow, Store} from '../../../src/lib/store/index.js'

import {
  type CleanupRequest,
  executeCleanup,
  isDestructive,
  parseCleanupRequest,
  planCleanup,
  waitForMutations,
} from '../../../src/lib/cleanup/index.js'
import {describePlan, renderCleanup} from '../../../src/lib/cleanup/render.js'
import {backends, expectUsageError as usage, storeOrSkip} from '../../helpers.js'
import {countBy, insertRows, makeDataset, stored} from '../analyze/data.js'

describe('cleanup: what may be asked', () => {
  it('needs an action, and refuses combinations that make no sense', () => {
    usage(() => parseCleanupRequest({}), /nothing to do/)
    usage(() => parseCleanupRequest({drop: true, optimize: true}), /--drop .* cannot be combined/)
    usage(() => parseCleanupRequest({runIds: ['r'], truncate: true}), /--truncate .* cannot be combined/)
    usage(() => parseCleanupRequest({apps: ['a', '']}), /--apps has an empty value/)
    usage(() => parseCleanupRequest({before: 'last week'}), /--before "last week" is not a time/)
  })

  it('knows which requests remove data', () => {
    expect(isDestructive(parseCleanupRequest({optimize: true}))).to.equal(false)
    for (const raw of [{truncate: true}, {drop: true}, {runIds: ['r']}, {apps: ['a']}, {before: '1d'}]) {
      expect(isDestructive(parseCleanupRequest(raw)), JSON.stringify(raw)).to.equal(true)
    }

    const request = parseCleanupRequest({apps: ['a', 'a', 'b'], before: '2024-05-01T00:00:00Z', optimize: true, runIds: ['r']})
    expect(request).to.deep.equal({
      apps: ['a', 'b'],
      before: Date.UTC(2024, 4, 1),
      drop: false,
      optimize: true,
      runIds: ['r'],
      truncate: false,
    })
  })
})

for (const backend of backends) {
  describe(`cleanup on the ${backend.name} back end`, function () {
    let store: Store
    let rows: LogRow[]

    const runCounts = async () =>
      Object.fromEntries(
        (await store.query<{run_id: string; n: number}>(`SELECT run_id, count() AS n FROM ${store.tableRef} GROUP BY run_id ORDER BY run_id`)).map(
          (row) => [row.run_id, row.n],
        ),
      )
    const count = async () => (await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`))[0].n
    const cleanup = async (request: CleanupRequest) => executeCleanup(store, request, await planCleanup(store, request), {pollMs: 50})

    before(async function () {
      store = await storeOrSkip(this, backend)
    })

    beforeEach(async () => {
      await store.ensureSchema()
      await store.command(`TRUNCATE TABLE ${store.tableRef}`)
      rows = makeDataset({perRun: [1500, 900, 600]})
      await insertRows(store, rows, 1000)
    })

    after(async () => {
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    it('--run-id removes exactly that run\'s rows and leaves the other runs alone', async () => {
      const before = await runCounts()
      expect(before).to.deep.equal({'run-alpha': 1500, 'run-beta': 900, 'run-gamma': 600})
      const result = await cleanup(parseCleanupRequest({runIds: ['run-beta']}))
      expect(result.deleteMethod).to.equal(store.info.capabilities.lightweightDelete ? 'lightweight-delete' : store.info.capabilities.mutationsSync ? 'mutation-sync' : 'mutation-poll')
      if (backend.name === 'server' && store.info.version.major < 19) expect(result.deleteMethod).to.equal('mutation-poll')
      expect(result).to.include({affectedRows: 900, executed: true, remainingMatching: 0, removedRows: 900, rowsAfter: 2100, rowsBefore: 3000})
      expect(await runCounts()).to.deep.equal({'run-alpha': 1500, 'run-gamma': 600})
      expect(result.statements).to.have.length(1)
      expect(result.statements[0].sql).to.match(/^(DELETE FROM|ALTER TABLE) `[^`]+`\.`logs` (DELETE )?WHERE `run_id` IN \(\{d_run0:String\}\)$/)
      expect(result.statements[0].params).to.deep.equal({d_run0: 'run-beta'})
    })

    it('--apps deletes those apps, a value with a quote included', async () => {
      const byApp = countBy(rows, (row) => row.app_id)
      const result = await cleanup(parseCleanupRequest({apps: ["o'brien-svc", 'auth-service']}))
      const gone = byApp.get("o'brien-svc")! + byApp.get('auth-service')!
      expect(result).to.include({affectedRows: gone, removedRows: gone, rowsAfter: rows.length - gone})
      const left = await store.query<{app_id: string}>(`SELECT DISTINCT app_id FROM ${store.tableRef} ORDER BY app_id`)
      expect(left.map((row) => row.app_id)).to.deep.equal(['api-gateway', 'payment-service'])
    })

    it('an injection attempt matches nothing, deletes nothing and runs no mutation', async () => {
      const result = await cleanup(parseCleanupRequest({apps: ["x' OR 1=1 --"]}))
      expect(result).to.include({affectedRows: 0, removedRows: 0, rowsAfter: rows.length})
      expect(result.statements).to.deep.equal([])
      expect(await count()).to.equal(rows.length)
    })

    it('--before deletes only rows created before the time; conditions combine with AND', async () => {
      const caps = store.info.capabilities
      const times = rows.map((row) => row.created_at).sort((a, b) => a - b)
      const cut = times[Math.floor(times.length / 2)] + 123
      const older = (row: LogRow) => stored(row.created_at, caps) < (caps.dateTime64 ? cut : Math.floor(cut / 1000) * 1000)
      const expected = rows.filter((row) => older(row) && row.run_id === 'run-alpha').length
      expect(expected).to.be.greaterThan(0)
      const result = await cleanup(parseCleanupRequest({before: new Date(cut).toISOString(), runIds: ['run-alpha']}))
      expect(result).to.include({affectedRows: expected, removedRows: expected})
      expect(await count()).to.equal(rows.length - expected)
      const [{n: survivors}] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef} WHERE run_id != 'run-alpha'`)
      expect(survivors).to.equal(rows.filter((row) => row.run_id !== 'run-alpha').length)
    })

    it('--dry-run counts what would go and changes nothing', async () => {
      const plan = await planCleanup(store, parseCleanupRequest({runIds: ['run-gamma']}))
      expect(plan).to.include({affectedRows: 600, exists: true, rowsBefore: rows.length})
      expect(describePlan(plan)).to.match(/delete 600 rows of 3,000 from \S+\.logs \([^)]+\) where run id ∈ \{run-gamma\}/)
      expect(await count()).to.equal(rows.length)
      const truncate = await planCleanup(store, parseCleanupRequest({truncate: true}))
      expect(truncate.affectedRows).to.equal(rows.length)
      expect(await count()).to.equal(rows.length)
    })

    it('--truncate empties the table; --optimize merges the parts', async () => {
      const parts = async () =>
        (
          await store.query<{parts: number; partitions: number}>(
            'SELECT count() AS parts, uniqExact(partition) AS partitions FROM system.parts WHERE database = {db:String} AND table = {t:String} AND active',
            {db: store.info.database, t: store.info.table},
          )
        )[0]
      // With merges stopped, each insert leaves its own parts: more parts than partitions, a number that holds still.
      await store.command(`SYSTEM STOP MERGES ${store.tableRef}`)
      let merged
      try {
        await store.command(`TRUNCATE TABLE ${store.tableRef}`)
        await insertRows(store, rows, 1000)
        const before = await parts()
        expect(before.parts).to.be.greaterThan(before.partitions)
        const request = parseCleanupRequest({optimize: true})
        const plan = await planCleanup(store, request)
        expect(plan.partsBefore).to.equal(before.parts)
        await store.command(`SYSTEM START MERGES ${store.tableRef}`)
        merged = await executeCleanup(store, request, plan, {pollMs: 50})
        expect(merged.partsBefore).to.equal(before.parts)
        expect(merged.partsAfter).to.equal(before.partitions)
        expect((await parts()).parts).to.equal(before.partitions)
      } finally {
        await store.command(`SYSTEM START MERGES ${store.tableRef}`)
      }

      expect(merged).to.include({removedRows: 0, rowsAfter: rows.length})
      const result = await cleanup(parseCleanupRequest({truncate: true}))
      expect(result).to.include({removedRows: rows.length, rowsAfter: 0, rowsBefore: rows.length})
      expect(await count()).to.equal(0)
      expect(renderCleanup(result)).to.match(/3,000 rows removed/)
    })

    it('--drop removes the table; a missing table is nothing to clean', async () => {
      const result = await cleanup(parseCleanupRequest({drop: true}))
      expect(result).to.include({exists: false, removedRows: rows.length, rowsAfter: null})
      expect(await store.schemaExists()).to.equal(false)
      const again = await cleanup(parseCleanupRequest({truncate: true}))
      expect(again).to.include({executed: false, exists: false, rowsBefore: null})
      expect(describePlan(again)).to.match(/does not exist: nothing to clean/)
    })

    it('stops waiting for a mutation on Ctrl+C and says ClickHouse carries on', async () => {
      const controller = new AbortController()
      controller.abort()
      try {
        await waitForMutations(store, ['mutation_999.txt'], {signal: controller.signal})
        expect.fail('should have thrown')
      } catch (error) {
        expect((error as {kind?: string}).kind).to.equal('interrupted')
        expect((error as Error).message).to.match(/stopped waiting for mutations mutation_999\.txt .* ClickHouse carries on/)
      }
    })
  })
}

after(() => {
  for (const backend of backends) backend.cleanup()
})
