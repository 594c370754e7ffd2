import {expect} from 'chai'
import {spawn} from 'node:child_process'
import path from 'node:path'

import {capabilitiesFor, epochMsExpr, LEVELS, type LogRow, makeRowEncoder, openStore, type Store} from '../../../src/lib/store/index.js'
import {adoptExistingTable, createTableSql} from '../../../src/lib/store/schema.js'
import {backends, repoRoot, storeOrSkip} from '../../helpers.js'

const TRICKY = [
  'plain ascii',
  'unicode: héllo wörld — 日本語 — emoji 😀🚀',
  "quotes: 'single' \"double\" `back`",
  'backslashes: C:\\path\\to\\file \\n not a newline \\\\',
  'newlines:\nsecond line\r\nthird\ttabbed',
  'control: \u0001\u0002\u001f end',
  '{"json":"inside", "n": [1,2,3]}',
  "sql: x' OR 1=1 -- ; DROP TABLE logs;",
]

function makeRows(count: number, now: number): LogRow[] {
  const rows: LogRow[] = []
  for (let i = 0; i < count; i++) {
    const big = i % 2500 === 7
    rows.push({
      app_id: `app-${i % 4}`,
      batch_id: `batch-${Math.floor(i / 1000)}`,
      created_at: now,
      level: LEVELS[i % LEVELS.length],
      message: big ? 'x'.repeat(64 * 1024 - 10) + 'é😀end' : `${TRICKY[i % TRICKY.length]} #${i}`,
      metadata: JSON.stringify({i, nested: {quote: "it's", uni: 'ü'}, run_id: 'run-store-test', seq: i}),
      run_id: 'run-store-test',
      seq: i,
      source: i % 3 === 0 ? '' : `source-${i % 3}`,
      timestamp: now - 1000 - i,
    })
  }

  return rows
}

/** Run ensureSchema() in `count` processes released at once; each one's last line ("ok" or the error). */
async function inSeparateProcesses(count: number, job: {clickhouseUrl: string; database: string}): Promise<string[]> {
  const script = path.join(repoRoot, 'test', 'fixtures', 'ensure-schema-child.ts')
  const children = Array.from({length: count}, () => spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(job)], {stdio: ['pipe', 'pipe', 'inherit']}))
  const outputs = children.map((child) => {
    let text = ''
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        text += chunk
        if (text.includes('ready\n')) resolve()
      })
      child.on('exit', (code) => reject(new Error(`schema child exited ${code} before it was ready: ${text}`)))
    })
    const done = new Promise<string>((resolve) => child.on('close', () => resolve(text.trim().split('\n').at(-1) ?? '')))
    return {done, ready}
  })
  await Promise.all(outputs.map((output) => output.ready))
  for (const child of children) child.stdin.end('go\n')
  return Promise.all(outputs.map((output) => output.done))
}

for (const backend of backends) {
  describe(`store on the ${backend.name} back end`, function () {
    let store: Store | undefined

    before(async function () {
      store = await storeOrSkip(this, backend)
    })

    after(async () => {
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    it('reports its version and the capabilities of that version, which the engine really has', async () => {
      const info = store!.info
      expect(info.kind).to.equal(backend.name)
      const [{version}] = await store!.query<{version: string}>('SELECT version() AS version')
      expect(info.version.text).to.equal(version)
      expect(info.version.major).to.be.greaterThan(17)
      // The capabilities follow the version (their table is tested in capabilities.test.ts), and the
      // engine agrees: a function of a feature it is said to have runs, one it is said to lack does not.
      expect(info.capabilities).to.deep.equal(capabilitiesFor(info.version))
      const runs = (sql: string) => store!.query(sql).then(
        () => true,
        () => false,
      )
      expect(await runs("SELECT toUnixTimestamp64Milli(toDateTime64('2024-01-02 03:04:05.678', 3, 'UTC')) AS ms"), 'DateTime64').to.equal(info.capabilities.dateTime64)
      expect(await runs(`SELECT JSONExtractString('{"a": "b"}', 'a') AS v`), 'JSONExtract').to.equal(info.capabilities.jsonExtract)
      process.stderr.write(`      (${backend.name}: ClickHouse ${info.version.text})\n`)
    })

    it(`creates the schema of a fresh database idempotently, from several callers at once${backend.name === 'server' ? ' in one process and in several' : ' (one process holds a data directory)'}`, async function () {
      const database = `${store!.info.database}_race`
      const options = backend.options(database)!
      const callers = await Promise.all(Array.from({length: 6}, () => openStore(options)))
      try {
        expect(await callers[0].schemaExists(), 'a fresh database').to.equal(false)
        await Promise.all(callers.map((caller) => caller.ensureSchema()))
        for (const caller of callers) expect(await caller.schemaExists()).to.equal(true)
        const tables = await store!.query<{name: string}>('SELECT name FROM system.tables WHERE database = {db:String}', {db: database})
        expect(tables.map((table) => table.name)).to.deep.equal([options.table ?? 'logs'])
      } finally {
        await store!.command(`DROP DATABASE IF EXISTS \`${database}\``)
        for (const caller of callers) await caller.close()
      }

      if (backend.name !== 'server') return
      // Separate processes, released together once each has its connection open.
      const fresh = `${store!.info.database}_procs`
      try {
        const outputs = await inSeparateProcesses(4, {clickhouseUrl: options.clickhouseUrl!, database: fresh})
        expect(outputs).to.deep.equal(['ok', 'ok', 'ok', 'ok'])
        expect(await store!.query('SELECT name FROM system.tables WHERE database = {db:String}', {db: fresh})).to.deep.equal([{name: 'logs'}])
      } finally {
        await store!.command(`DROP DATABASE IF EXISTS \`${fresh}\``)
      }
    })

    it('stores 10,000 rows and reads every field back intact', async () => {
      const now = Date.now()
      const rows = makeRows(10_000, now)
      const encode = makeRowEncoder(store!.info.capabilities)
      const body = rows.map((row) => encode(row)).join('')
      await store!.insert(body)

      const [{n}] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef}`)
      expect(n).to.equal(10_000)

      const caps = store!.info.capabilities
      const back = await store!.query<Record<string, unknown>>(
        `SELECT seq, app_id, level, message, source, metadata, run_id, batch_id,
                ${epochMsExpr('timestamp', caps)} AS ts_ms, ${epochMsExpr('created_at', caps)} AS created_ms
         FROM ${store!.tableRef} ORDER BY seq`,
      )
      expect(back).to.have.length(10_000)
      const precision = caps.dateTime64 ? 1 : 1000
      for (const [i, got] of back.entries()) {
        const want = rows[i]
        expect(got.seq).to.equal(want.seq)
        expect(got.app_id).to.equal(want.app_id)
        expect(got.level).to.equal(want.level)
        expect(got.message, `message of row ${i}`).to.equal(want.message)
        expect(got.source).to.equal(want.source)
        expect(got.metadata).to.equal(want.metadata)
        expect(got.run_id).to.equal(want.run_id)
        expect(got.batch_id).to.equal(want.batch_id)
        expect(got.ts_ms).to.equal(Math.floor(want.timestamp / precision) * precision)
        expect(got.created_ms).to.equal(Math.floor(want.created_at / precision) * precision)
      }

      const bigOnes = back.filter((row) => (row.message as string).length > 60_000)
      expect(bigOnes.length).to.equal(4)
      expect(bigOnes[0].message as string).to.match(/é😀end$/)
    })

    it('stores created_at as a real recent time, never 1970 or 0000', async () => {
      const [row] = await store!.query<{oldest: number; newest: number}>(
        `SELECT ${epochMsExpr('min(created_at)', store!.info.capabilities)} AS oldest, ${epochMsExpr('max(created_at)', store!.info.capabilities)} AS newest FROM ${store!.tableRef}`,
      )
      expect(row.oldest).to.be.greaterThan(Date.now() - 3_600_000)
      expect(row.newest).to.be.at.most(Date.now() + 1000)
      const [year] = await store!.query<{y: number}>(`SELECT toYear(min(created_at)) AS y FROM ${store!.tableRef}`)
      expect(year.y).to.be.greaterThan(2000)
    })

    it('binds parameters so hostile input is only ever a value', async () => {
      const hostile = "app-1' OR 1=1 --"
      const [none] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef} WHERE app_id = {app:String}`, {app: hostile})
      expect(none.n).to.equal(0)
      const [some] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef} WHERE app_id = {app:String} AND seq >= {from:UInt64}`, {
        app: 'app-1',
        from: 0,
      })
      expect(some.n).to.equal(2500)
      const [quoted] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef} WHERE message = {m:String}`, {m: `${TRICKY[2]} #2`})
      expect(quoted.n).to.equal(1)
    })

    it('writes times the way an existing table stores them, whatever the server could do', async () => {
      const database = `${store!.info.database}_old`
      await store!.command(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
      await store!.command(createTableSql(database, 'logs', {...store!.info.capabilities, dateTime64: false}))
      // The same connection, looking at a table created as an older server would have.
      const view = {...store!, info: {...store!.info, capabilities: {...store!.info.capabilities, dateTime64: true}, database}, query: store!.query.bind(store)} as Store
      await adoptExistingTable(view)
      expect(view.info.capabilities.dateTime64).to.equal(false)
      await store!.command(`DROP DATABASE IF EXISTS \`${database}\``)
      await adoptExistingTable(store!)
      expect(store!.info.capabilities.dateTime64).to.equal(capabilitiesFor(store!.info.version).dateTime64)
    })

    it('turns a bad statement into a ClickHouse error with its code', async () => {
      try {
        await store!.query('SELECT * FROM no_such_database_x.no_such_table')
        expect.fail('should have thrown')
      } catch (error) {
        expect((error as Error).name).to.equal('ClickHouseError')
        expect((error as {code?: number}).code).to.be.a('number')
      }
    })

    it('rejects a malformed insert and stores nothing from it', async () => {
      const [before] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef}`)
      let failed = false
      try {
        await store!.insert('{"timestamp": "not a time", "garbage": true}\n')
      } catch {
        failed = true
      }

      expect(failed).to.equal(true)
      const [after] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef}`)
      expect(after.n).to.equal(before.n)
    })
  })
}

after(() => {
  for (const backend of backends) backend.cleanup()
})
