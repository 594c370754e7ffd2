/**
 * The CLI acts only on the store and the table the user named.
 */
import {expect} from 'chai'
import {rmSync} from 'node:fs'

import {openStore} from '../../src/lib/store/index.js'
import {requireServerUrl, runCli, tempDir, uniqueDatabase} from '../helpers.js'

describe('store guards', () => {
  it('--data-dir on the command line means the embedded engine, even with CLICKHOUSE_URL set', async () => {
    const dir = tempDir()
    try {
      const result = await runCli(['doctor', '--json', '--data-dir', dir], {env: {CLICKHOUSE_URL: 'http://127.0.0.1:1'}})
      expect(result.code, result.stderr).to.equal(0)
      expect(JSON.parse(result.stdout).store).to.include({kind: 'embedded', location: dir})
      const both = await runCli(['doctor', '--data-dir', dir, '--clickhouse-url', 'http://127.0.0.1:1'])
      expect(both.code).to.equal(2)
      expect(both.stderr).to.include('two different stores')
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  it('cleanup refuses to empty a table that is not a logs table, and names the store it acts on', async function () {
    const url = requireServerUrl(this)
    const database = uniqueDatabase('lbguard')
    const store = await openStore({clickhouseUrl: url, database})
    try {
      await store.command(`CREATE DATABASE ${database}`)
      await store.command(`CREATE TABLE ${database}.customers (id UInt64) ENGINE = MergeTree ORDER BY id`)
      await store.command(`INSERT INTO ${database}.customers SELECT number FROM system.numbers LIMIT 1000`)
      const refused = await runCli(['cleanup', '--truncate', '--yes', '--clickhouse-url', url, '--database', database, '--table', 'customers'])
      expect(refused.code).to.equal(2)
      expect(refused.stderr).to.match(/is not a logs table/)
      const [row] = await store.query<{n: number}>(`SELECT count() AS n FROM ${database}.customers`)
      expect(row.n).to.equal(1000)

      await store.ensureSchema()
      const planned = await runCli(['cleanup', '--truncate', '--dry-run', '--json', '--clickhouse-url', url, '--database', database])
      expect(planned.code, planned.stderr).to.equal(0)
      // The server's own version, whatever it is, and where it was reached (without credentials).
      const [{version}] = await store.query<{version: string}>('SELECT version() AS version')
      expect(JSON.parse(planned.stdout).store).to.equal(`ClickHouse ${version} at ${store.info.location}`)
    } finally {
      await store.command(`DROP DATABASE IF EXISTS ${database}`)
      await store.close()
    }
  })
})
