/**
 * The history's stores, one contract on three back ends: files under a
 * directory, the ClickHouse server the suite starts (18.16 here), and the
 * embedded engine (current ClickHouse).
 */
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {HistoryStore} from '../../../src/lib/history/store/types.js'
import type {Store} from '../../../src/lib/store/index.js'

import {ClickHouseHistory, HISTORY_DDL} from '../../../src/lib/history/store/clickhouse.js'
import {FileHistory} from '../../../src/lib/history/store/file.js'
import {openStore} from '../../../src/lib/store/index.js'
import {openEmbeddedStore, repoRoot, serverUrl, tempDir} from '../../helpers.js'
import {record} from './records.js'

interface Backend {
  name: string
  open(): Promise<{history: HistoryStore; store?: Store}>
  reset(): Promise<void>
  cleanup(): Promise<void>
}

let filesDir: string | undefined
const BACKENDS: Backend[] = [
  {
    async cleanup() {
      if (filesDir) rmSync(filesDir, {force: true, recursive: true})
    },
    name: 'files',
    async open() {
      return {history: new FileHistory(filesDir!)}
    },
    async reset() {
      if (filesDir) rmSync(filesDir, {force: true, recursive: true})
      filesDir = tempDir('logbench-history-')
    },
  },
  {
    async cleanup() {},
    name: 'server',
    async open() {
      const url = serverUrl()
      if (!url) throw new Error('no server')
      const store = await openStore({clickhouseUrl: url, database: 'logbench', table: 'runs'})
      return {history: await ClickHouseHistory.open(store), store}
    },
    async reset() {
      const url = serverUrl()
      if (!url) return
      const store = await openStore({clickhouseUrl: url, database: 'default', table: 'x'})
      await store.command('DROP DATABASE IF EXISTS `logbench`')
      await store.close()
    },
  },
  {
    async cleanup() {},
    name: 'embedded',
    async open() {
      // One data directory per process: the suite's own, through which every embedded test goes.
      const store = await openEmbeddedStore('logbench', 'runs')
      return {history: await ClickHouseHistory.open(store), store}
    },
    async reset() {
      const store = await openEmbeddedStore('default', 'x')
      await store.command('DROP DATABASE IF EXISTS `logbench`')
      await store.close()
    },
  },
]

for (const backend of BACKENDS) {
  describe(`history store: ${backend.name}`, function () {
    let history: HistoryStore
    let store: Store | undefined

    before(function () {
      if (backend.name === 'server' && !serverUrl()) {
        if (process.env.CI === 'true') throw new Error('the server back end is not available under CI=true')
        this.skip()
      }
    })

    beforeEach(async () => {
      await backend.reset()
      ;({history, store} = await backend.open())
    })

    afterEach(async () => {
      await history?.close()
    })

    after(async () => {
      await backend.cleanup()
    })

    it('records runs and lists them newest first, with a limit and by tags', async () => {
      expect(await history.list()).to.deep.equal([])
      const ids = []
      for (const [seed, tags] of [[1, {branch: 'main'}], [2, {branch: 'pr-7'}], [3, {branch: 'main', os: 'linux'}]] as const) ids.push(await history.add(record(seed, {tags})))
      expect(ids).to.deep.equal(['run-synthetic-1', 'run-synthetic-2', 'run-synthetic-3'])
      const all = await history.list()
      expect(all.map((s) => s.id)).to.deep.equal(['run-synthetic-3', 'run-synthetic-2', 'run-synthetic-1'])
      expect(all[0].summary.throughputLogsPerSecond).to.be.greaterThan(0)
      expect(all[0].tags).to.deep.equal({branch: 'main', os: 'linux'})
      expect(all[0].clickhouse).to.deep.equal({table: 'logs_db.logs', version: '18.16.1'})
      expect((await history.list({limit: 2})).map((s) => s.id)).to.deep.equal(['run-synthetic-3', 'run-synthetic-2'])
      expect((await history.list({tags: {branch: 'main'}})).map((s) => s.id)).to.deep.equal(['run-synthetic-3', 'run-synthetic-1'])
      expect((await history.list({tags: {branch: 'main', os: 'linux'}})).map((s) => s.id)).to.deep.equal(['run-synthetic-3'])
      expect(await history.list({tags: {branch: 'none'}})).to.deep.equal([])
    })

    it('keeps the whole result, and gives a second record of one run id an id of its own', async () => {
      const first = record(4, {runId: 'run-same'})
      const again = record(5, {at: '2025-03-02T09:00:00.000Z', runId: 'run-same'})
      expect(await history.add(first)).to.equal('run-same')
      expect(await history.add(again)).to.equal('run-same-2')
      const back = await history.get('run-same-2')
      expect(back!.id).to.equal('run-same-2')
      expect(back!.result).to.deep.equal(again.result)
      expect(back!.summary).to.deep.equal(again.summary)
      expect(await history.get('run-nope')).to.equal(undefined)
    })

    it('matches a reference by id, by run id, then by the start of an id', async () => {
      await history.add(record(6, {runId: 'run-alpha'}))
      await history.add(record(7, {runId: 'run-beta', worker: {count: 2, index: 0}}))
      await history.add(record(8, {runId: 'run-beta', worker: {count: 2, index: 1}}))
      expect((await history.match('run-alpha')).map((s) => s.id)).to.deep.equal(['run-alpha'])
      expect((await history.match('run-beta')).map((s) => s.id)).to.deep.equal(['run-beta.w1', 'run-beta.w0'])
      expect((await history.match('run-beta.w1')).map((s) => s.id)).to.deep.equal(['run-beta.w1'])
      expect((await history.match('run-al')).map((s) => s.id)).to.deep.equal(['run-alpha'])
      expect(await history.match('run-gamma')).to.deep.equal([])
    })

    it('names baselines; the last set wins; a removed one is gone', async () => {
      await history.add(record(9, {runId: 'run-b1'}))
      await history.add(record(10, {runId: 'run-b2'}))
      expect(await history.baselines()).to.deep.equal([])
      await history.setBaseline('main', 'run-b1')
      await history.setBaseline('release-1.0', 'run-b2')
      expect((await history.baseline('main'))!.id).to.equal('run-b1')
      await new Promise((resolve) => setTimeout(resolve, 5))
      await history.setBaseline('main', 'run-b2')
      expect((await history.baselines()).map((b) => [b.name, b.id])).to.deep.equal([
        ['main', 'run-b2'],
        ['release-1.0', 'run-b2'],
      ])
      expect(await history.deleteBaseline('release-1.0')).to.equal(true)
      expect(await history.deleteBaseline('release-1.0')).to.equal(false)
      expect(await history.baseline('release-1.0')).to.equal(undefined)
      expect((await history.baselines()).map((b) => b.name)).to.deep.equal(['main'])
    })

    it('holds a long run whole (600 intervals with their histograms)', async () => {
      const long = record(11, {intervals: 600, runId: 'run-long'})
      expect(JSON.stringify(long).length).to.be.greaterThan(200_000)
      await history.add(long)
      expect((await history.get('run-long'))!.result).to.deep.equal(long.result)
      if (store) {
        const [row] = await store.query<{n: number; acked: number}>("SELECT count() AS n, sum(acked) AS acked FROM `logbench`.`intervals` WHERE id = 'run-long'")
        expect(Number(row.n)).to.equal(600)
        expect(Number(row.acked)).to.equal(long.result.kind === 'capacity' ? 0 : long.result.logs.acked)
        // The runs table has the figures as columns, for charts.
        const [run] = await store.query<{throughput: number; p99_ms: number; tags: string[]}>("SELECT throughput, p99_ms, tags FROM `logbench`.`runs` WHERE id = 'run-long'")
        expect(run.throughput).to.be.closeTo(long.summary.throughputLogsPerSecond!, 1e-6)
        expect(run.p99_ms).to.equal(long.summary.p99Ms)
      }
    })

    if (backend.name !== 'files') {
      it('creates its database and tables idempotently, also from several callers at once', async () => {
        const again = await Promise.all([backend.open(), backend.open()])
        for (const {history: h} of again) {
          expect(await h.list()).to.deep.equal([])
          await h.close()
        }

        for (const sql of HISTORY_DDL) await store!.command(sql)
      })
    }
  })
}

describe('history store: files, concurrent writers and crashes', () => {
  let dir: string

  beforeEach(() => {
    dir = tempDir('logbench-history-files-')
  })

  afterEach(() => rmSync(dir, {force: true, recursive: true}))

  it('gives every concurrent record of one run id its own id, in one process', async () => {
    const history = new FileHistory(dir)
    const ids = await Promise.all(Array.from({length: 12}, (_, i) => history.add(record(20 + i, {runId: 'run-race'}))))
    expect(new Set(ids).size).to.equal(12)
    expect(ids).to.include('run-race')
    expect((await history.list()).length).to.equal(12)
    // No temporary file is left behind.
    expect(readdirSync(path.join(dir, 'runs')).filter((f) => f.startsWith('.'))).to.deep.equal([])
  })

  it('gives every record of one run id its own id across processes writing at once', async () => {
    const script = path.join(repoRoot, 'test', 'lib', 'history', 'add-records.ts')
    const children = Array.from({length: 3}, (_, k) =>
      new Promise<{code: number | null; stderr: string}>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, dir, String(k), '6'], {cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe']})
        let stderr = ''
        child.stderr.on('data', (chunk) => (stderr += chunk))
        child.on('error', reject)
        child.on('close', (code) => resolve({code, stderr}))
      }),
    )
    for (const result of await Promise.all(children)) expect(result.code, result.stderr).to.equal(0)
    const listed = await new FileHistory(dir).list()
    expect(listed.length).to.equal(18)
    expect(new Set(listed.map((s) => s.id)).size).to.equal(18)
    expect(listed.every((s) => s.runId === 'run-multi')).to.equal(true)
  })

  it('lists a record whose summary a crash did not write, and skips stray and damaged files', async () => {
    const history = new FileHistory(dir)
    await history.add(record(40, {runId: 'run-kept'}))
    await history.add(record(41, {runId: 'run-orphan'}))
    // A crash after the record, before its summary; a temporary file half written; a damaged record.
    rmSync(path.join(dir, 'index', 'run-orphan.json'))
    writeFileSync(path.join(dir, 'runs', '.run-x.json.123.abcd.tmp'), '{"half":')
    writeFileSync(path.join(dir, 'runs', 'run-damaged.json'), '{"id": "run-damaged", "resu')
    mkdirSync(path.join(dir, 'baselines'), {recursive: true})
    writeFileSync(path.join(dir, 'baselines', '.main.json.1.tmp'), '{')
    const listed = await history.list()
    expect(listed.map((s) => s.id).sort()).to.deep.equal(['run-kept', 'run-orphan'])
    // The summary is written back.
    expect(readdirSync(path.join(dir, 'index')).sort()).to.deep.equal(['run-kept.json', 'run-orphan.json'])
    expect(await history.get('run-damaged')).to.equal(undefined)
    expect(await history.baselines()).to.deep.equal([])
    // A summary whose record was removed by hand is not listed.
    rmSync(path.join(dir, 'runs', 'run-kept.json'))
    expect((await history.list()).map((s) => s.id)).to.deep.equal(['run-orphan'])
  })

  it('refuses a baseline name that is not one', async () => {
    const history = new FileHistory(dir)
    for (const name of ['../x', '.hidden', '', 'a b']) {
      try {
        await history.setBaseline(name, 'run-1')
        expect.fail(`accepted ${name}`)
      } catch (error) {
        expect((error as {kind?: string}).kind).to.equal('usage')
      }
    }
  })
})
