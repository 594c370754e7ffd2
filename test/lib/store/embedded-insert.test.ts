/**
 * RowBinary into the embedded engine (chDB), through its insert files, on the real engine:
 * serve's batches come back intact, a failed INSERT fails alone and leaves no file,
 * deduplication tokens hold, times follow the table's type, and an unwritable or
 * vanished temp directory falls back to JSONEachRow with one warning, failing nothing.
 */
import {expect} from 'chai'
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {type IngestServer, startIngestServer} from '../../../src/lib/ingest/index.js'
import {insertFormatFor, makeRowWriter} from '../../../src/lib/ingest/row-format.js'
import {ClickHouseError, LEVELS, openStore, type Store} from '../../../src/lib/store/index.js'
import {createTableSql} from '../../../src/lib/store/schema.js'
import {backends, tempDir, uniqueDatabase} from '../../helpers.js'

const BASE_MS = Date.UTC(2026, 10, 28, 9, 30, 0, 0)
const SIXTY_KB = 60 * 1024
const TEXTS = [
  'plain ascii',
  'unicode: héllo wörld — 日本語 — emoji 😀🚀 — 𝄞',
  'control: \u0001\u0002\u0008\u000c\u001f and \u007f end',
  'escapes: "quoted" \\ back\\slash\nnew line\r\ncarriage\ttab /slash',
  "sql: x' OR 1=1 -- ; DROP TABLE logs;",
  '',
]

interface SentLog {
  app_id: string
  level: string
  message: string
  source: string
  timestamp: string | number
  metadata: Record<string, unknown>
}

/** Log `seq` of a run: every kind of text in every field, some 60 kB messages, times to the ms. */
function log(run: string, seq: number): SentLog {
  const text = TEXTS[seq % TEXTS.length]
  const ms = BASE_MS + seq * 7 + (seq % 1000)
  const big = seq % 997 === 3
  return {
    app_id: `app-${seq % 5}`,
    level: LEVELS[seq % LEVELS.length],
    message: big ? 'ü'.repeat(SIXTY_KB / 2 - 8) + `😀 #${seq}` : `${text} #${seq}`,
    metadata: {nested: {deep: [1, 'two', {three: text}], 'ключ': seq % 3 === 0}, run_id: run, seq},
    source: seq % 3 === 0 ? '' : `host-${seq % 7} ${TEXTS[(seq + 1) % TEXTS.length]}`,
    // Alternately ISO text and epoch ms: both to the millisecond.
    timestamp: seq % 2 ? new Date(ms).toISOString() : ms,
  }
}

const msOf = (sent: SentLog) => (typeof sent.timestamp === 'number' ? sent.timestamp : Date.parse(sent.timestamp))

async function post(url: string, logs: unknown[], key: string): Promise<number> {
  const response = await fetch(`${url}/api/logs/batch`, {body: JSON.stringify(logs), headers: {'content-type': 'application/json', 'idempotency-key': key}, method: 'POST'})
  await response.arrayBuffer()
  return response.status
}

interface StoredRow {
  ts: number
  ca: number
  app_id: string
  level: string
  message: string
  source: string
  metadata: string
  run_id: string
  seq: number
  batch_id: string
}

async function storedRows(store: Store, run: string): Promise<StoredRow[]> {
  return store.query<StoredRow>(
    `SELECT toUnixTimestamp64Milli(timestamp) AS ts, toUnixTimestamp64Milli(created_at) AS ca, app_id, toString(level) AS level, message, source, metadata, run_id, seq, batch_id
     FROM ${store.tableRef} WHERE run_id = {run:String} ORDER BY seq`,
    {run},
  )
}

/** Every field of every stored row against what was sent. */
function expectIntact(rows: StoredRow[], run: string, count: number, keyOf: (seq: number) => string, window: {from: number; to: number}): void {
  expect(rows.map((row) => row.seq)).to.deep.equal(Array.from({length: count}, (_, i) => i))
  for (const row of rows) {
    const sent = log(run, row.seq)
    const context = `seq ${row.seq}`
    expect(row.ts, context).to.equal(msOf(sent))
    expect(row.ca, context).to.be.within(window.from, window.to)
    expect(row.app_id, context).to.equal(sent.app_id)
    expect(row.level, context).to.equal(sent.level)
    expect(row.message, context).to.equal(sent.message)
    expect(row.source, context).to.equal(sent.source)
    expect(JSON.parse(row.metadata), context).to.deep.equal(sent.metadata)
    expect(row.run_id, context).to.equal(run)
    expect(row.batch_id, context).to.equal(keyOf(row.seq))
  }
}

/** The store's insert calls, recorded on their way to the real insert. */
function recordFormats(store: Store): string[] {
  const formats: string[] = []
  const insert = store.insert.bind(store)
  store.insert = (body, options) => {
    formats.push(options?.format ?? 'JSONEachRow')
    return insert(body, options)
  }

  return formats
}

const insertFileDirs = (base: string) => readdirSync(base).filter((name) => name.startsWith('logbench-insert-'))

describe('RowBinary into the embedded engine', function () {
  const database = uniqueDatabase('lbrowbin')
  let root: string
  let base: string
  let warnings: string[]
  let store: Store
  let server: IngestServer | undefined

  const open = async (options: {tempDir: string; table?: string}) => {
    const opened = await openStore({...backends[1].options(database)!, ...options, warn: (message) => warnings.push(message)})
    await opened.ensureSchema()
    return opened
  }

  beforeEach(async () => {
    root = tempDir('logbench-rowbinary-')
    base = path.join(root, 'shm')
    mkdirSync(base)
    warnings = []
    store = await open({tempDir: base})
  })

  afterEach(async () => {
    await server?.stop()
    server = undefined
    await store.command(`DROP DATABASE IF EXISTS \`${database}\``)
    await store.close()
    rmSync(root, {force: true, recursive: true})
  })

  after(() => backends[1].cleanup())

  it('10,000 rows go through serve as RowBinary and come back intact, every field, with no file left', async () => {
    const formats = recordFormats(store)
    expect(await insertFormatFor(store)).to.equal('RowBinary')
    server = await startIngestServer({port: 0, store})
    const run = 'run-rowbinary-10k'
    const from = Date.now()
    const statuses = await Promise.all(
      Array.from({length: 10}, (_, request) =>
        post(
          server!.url,
          Array.from({length: 1000}, (_, i) => log(run, request * 1000 + i)),
          `key-${request}`,
        ),
      ),
    )
    const to = Date.now()
    expect(statuses).to.deep.equal(Array.from({length: 10}, () => 202))
    expect(formats.length).to.be.greaterThan(0)
    expect(new Set(formats)).to.deep.equal(new Set(['RowBinary']))
    expectIntact(await storedRows(store, run), run, 10_000, (seq) => `key-${Math.floor(seq / 1000)}`, {from, to})
    // The store's directory is there (serve is running) and holds no file.
    const dirs = insertFileDirs(base)
    expect(dirs).to.have.length(1)
    expect(readdirSync(path.join(base, dirs[0]))).to.deep.equal([])
    expect(warnings).to.deep.equal([])
    await server.stop()
    server = undefined
    await store.close()
    expect(insertFileDirs(base), 'the directory goes with the store').to.deep.equal([])
    store = await open({tempDir: base})
  })

  it('a failed INSERT rejects with the engine error, stores nothing of it and leaves no file; the next one goes in', async () => {
    const writer = makeRowWriter('RowBinary', store.info.capabilities)
    writer.begin(BASE_MS, BASE_MS)
    writer.str('app')
    const cut = writer.take()
    let error: unknown
    try {
      await store.insert(cut, {format: 'RowBinary'})
    } catch (caught) {
      error = caught
    }

    expect((error as ClickHouseError).name).to.equal('ClickHouseError')
    expect((error as ClickHouseError).code, (error as Error).message).to.equal(33)
    const [{n}] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`)
    expect(n).to.equal(0)
    for (const dir of insertFileDirs(base)) expect(readdirSync(path.join(base, dir))).to.deep.equal([])
    expect(warnings).to.deep.equal([])
    const whole = makeRowWriter('RowBinary', store.info.capabilities)
    whole.begin(BASE_MS, BASE_MS)
    whole.str('app')
    whole.level(0)
    for (const value of ['m', 's', '{}', 'r']) whole.str(value)
    whole.seq(1)
    whole.end('b')
    await store.insert(whole.take(), {format: 'RowBinary'})
    const [{stored}] = await store.query<{stored: number}>(`SELECT count() AS stored FROM ${store.tableRef}`)
    expect(stored).to.equal(1)
  })

  it('a deduplication token stores a repeated RowBinary batch once', async () => {
    const writer = makeRowWriter('RowBinary', store.info.capabilities)
    for (let seq = 0; seq < 50; seq++) {
      writer.begin(BASE_MS + seq, BASE_MS)
      writer.str('app')
      writer.level(1)
      writer.str('message')
      writer.str('source')
      writer.str('{}')
      writer.str('run-dedup')
      writer.seq(seq)
      writer.end('b')
    }

    const body = writer.take()
    await store.insert(body, {dedupToken: 'token-a', format: 'RowBinary'})
    await store.insert(body, {dedupToken: 'token-a', format: 'RowBinary'})
    const count = async () => (await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`))[0].n
    expect(await count()).to.equal(50)
    await store.insert(body, {dedupToken: 'token-b', format: 'RowBinary'})
    expect(await count()).to.equal(100)
  })

  it('times follow the table: a DateTime table gets seconds', async () => {
    await store.command(createTableSql(database, 'logs_seconds', {...store.info.capabilities, dateTime64: false}))
    const seconds = await open({table: 'logs_seconds', tempDir: base})
    try {
      expect(seconds.info.capabilities.dateTime64).to.equal(false)
      expect(await insertFormatFor(seconds)).to.equal('RowBinary')
      const formats = recordFormats(seconds)
      server = await startIngestServer({port: 0, store: seconds})
      const run = 'run-seconds'
      expect(await post(server.url, Array.from({length: 100}, (_, seq) => log(run, seq)), 'k')).to.equal(202)
      await server.stop()
      server = undefined
      expect(formats).to.deep.equal(['RowBinary'])
      const rows = await seconds.query<{seq: number; ts: number}>(
        `SELECT seq, toUnixTimestamp(timestamp) AS ts FROM ${seconds.tableRef} WHERE run_id = {run:String} ORDER BY seq`,
        {run},
      )
      expect(rows.map((row) => row.ts)).to.deep.equal(Array.from({length: 100}, (_, seq) => Math.floor(msOf(log(run, seq)) / 1000)))
    } finally {
      await seconds.close()
    }
  })

  it('an unwritable temp directory: serve writes JSONEachRow, with one warning, and every request is stored', async () => {
    await store.close()
    const blocked = path.join(root, 'not-a-directory')
    writeFileSync(blocked, '')
    store = await open({tempDir: path.join(blocked, 'shm')})
    const formats = recordFormats(store)
    expect(await insertFormatFor(store)).to.equal('JSONEachRow')
    server = await startIngestServer({port: 0, store})
    const run = 'run-unwritable'
    const from = Date.now()
    const statuses = await Promise.all(Array.from({length: 4}, (_, request) => post(server!.url, Array.from({length: 500}, (_, i) => log(run, request * 500 + i)), `u-${request}`)))
    const to = Date.now()
    expect(statuses).to.deep.equal([202, 202, 202, 202])
    expect(new Set(formats)).to.deep.equal(new Set(['JSONEachRow']))
    expectIntact(await storedRows(store, run), run, 2000, (seq) => `u-${Math.floor(seq / 500)}`, {from, to})
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.include(path.join(blocked, 'shm')).and.include('JSONEachRow')
  })

  it('a temp directory that fails mid-run: RowBinary batches go in as JSONEachRow, one warning, none failed', async () => {
    expect(await insertFormatFor(store)).to.equal('RowBinary')
    server = await startIngestServer({port: 0, store})
    const run = 'run-midway'
    const from = Date.now()
    const batch = (request: number) => Array.from({length: 500}, (_, i) => log(run, request * 500 + i))
    expect(await post(server.url, batch(0), 'm-0')).to.equal(202)
    // The place goes away and a file takes its name: no directory can be made there now.
    rmSync(base, {force: true, recursive: true})
    writeFileSync(base, '')
    const statuses = await Promise.all([1, 2, 3].map((request) => post(server!.url, batch(request), `m-${request}`)))
    expect(statuses).to.deep.equal([202, 202, 202])
    expect(await post(server.url, batch(4), 'm-4')).to.equal(202)
    const to = Date.now()
    expectIntact(await storedRows(store, run), run, 2500, (seq) => `m-${Math.floor(seq / 500)}`, {from, to})
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.include('JSONEachRow')
    rmSync(base)
    mkdirSync(base)
  })
})
