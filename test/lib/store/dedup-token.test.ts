/**
 * Insert deduplication tokens: where the engine has them (22.2+, and the
 * embedded engine) an INSERT repeated with its token is stored once; where it
 * has not (18.16) the token is left out, the INSERT still succeeds and a
 * repeat is stored again (serve's key cache and batch_id are then the whole story).
 */
import {expect} from 'chai'

import {capabilitiesFor, type LogRow, makeRowEncoder, type Store} from '../../../src/lib/store/index.js'
import {backends, storeOrSkip} from '../../helpers.js'

function rows(batch: string, count: number): LogRow[] {
  const now = Date.now()
  return Array.from({length: count}, (_, seq) => ({
    app_id: 'app',
    batch_id: batch,
    created_at: now,
    level: 'info',
    message: `log ${seq}`,
    metadata: '',
    run_id: 'run-dedup',
    seq,
    source: '',
    timestamp: now,
  }))
}

for (const backend of backends) {
  describe(`store: insert deduplication tokens on the ${backend.name} back end`, function () {
    let store: Store

    before(async function () {
      store = await storeOrSkip(this, backend)
    })

    after(async () => {
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    const count = async (batch: string) => (await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef} WHERE batch_id = {b:String}`, {b: batch}))[0].n

    it('stores an INSERT repeated with its token once where the engine has tokens, twice where it has none', async () => {
      const has = capabilitiesFor(store.info.version).insertDedupToken
      expect(store.info.capabilities.insertDedupToken).to.equal(has)
      const encode = makeRowEncoder(store.info.capabilities)
      const body = rows('b-1', 100).map((row) => encode(row)).join('')
      await store.insert(body, {dedupToken: 'token-1'})
      await store.insert(body, {dedupToken: 'token-1'})
      expect(await count('b-1')).to.equal(has ? 100 : 200)
      // Another token is another INSERT, even with the same rows.
      await store.insert(body, {dedupToken: 'token-2'})
      expect(await count('b-1')).to.equal(has ? 200 : 300)
      // Where tokens exist, the table keeps a window of them (schema.ts).
      const [{engine}] = await store.query<{engine: string}>('SELECT engine_full AS engine FROM system.tables WHERE database = {db:String} AND name = {t:String}', {
        db: store.info.database,
        t: store.info.table,
      })
      if (has) expect(engine).to.include('non_replicated_deduplication_window = 10000')
      else expect(engine).not.to.include('deduplication')
    })

    it('the token decides, not the rows: a repeated token drops other rows where tokens exist, and changes nothing where they do not', async () => {
      const has = store.info.capabilities.insertDedupToken
      const encode = makeRowEncoder(store.info.capabilities)
      await store.insert(rows('b-2', 10).map((row) => encode(row)).join(''), {dedupToken: 'token-3'})
      await store.insert(rows('b-3', 10).map((row) => encode(row)).join(''), {dedupToken: 'token-3'})
      expect([await count('b-2'), await count('b-3')]).to.deep.equal(has ? [10, 0] : [10, 10])
    })
  })
}

after(() => {
  for (const backend of backends) backend.cleanup()
})
