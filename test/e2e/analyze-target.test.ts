/**
 * `analyze --target`: the built CLI asks a running `logbench serve` (the real
 * command, a process of its own, with a token) for its reports. For the
 * embedded engine that is the real situation: serve holds the data directory
 * and the CLI cannot open it. The requests pass through a recording proxy, so
 * the test sees what the CLI asked; the answers are compared with the same CLI
 * reading the store directly, before serve took it.
 */
import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {rmSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import type {Store} from '../../src/lib/store/index.js'

import {REPORT_NAMES} from '../../src/lib/analyze/index.js'
import {backends, binPath, repoRoot, requireServerUrl, runCli, storeOrSkip, tempDir} from '../helpers.js'
import {inEmbeddedChild} from '../lib/analyze/embedded-child-client.js'
import {insertRows, makeDataset} from '../lib/analyze/data.js'

const TOKEN = 'report-token'
const PER_RUN = [2000, 1000, 500]

interface Serve {
  url: string
  stop(): Promise<number | null>
}

/** `logbench serve` as a user starts it, on a free port; resolves once it listens. */
async function startServe(storeArgs: string[]): Promise<Serve> {
  const child: ChildProcess = spawn(process.execPath, [binPath, 'serve', '--port', '0', ...storeArgs], {
    cwd: repoRoot,
    env: {...process.env, LOGBENCH_TOKEN: TOKEN, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const look = (chunk: Buffer) => {
      output += chunk
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) resolve(match[1])
    }

    child.stdout!.on('data', look)
    child.stderr!.on('data', look)
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${output}`)))
  })
  return {
    stop() {
      child.kill('SIGTERM')
      return exited
    },
    url,
  }
}

/** A proxy in front of serve that notes the path and query of every request. */
async function recordingProxy(target: string, seen: string[]): Promise<{url: string; close: () => Promise<void>}> {
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '')
    const forward = http.request(new URL(req.url ?? '/', target), {headers: req.headers, method: req.method}, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forward.on('error', () => res.writeHead(502).end())
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  }
}

interface Setup {
  /** The store flags of the CLI and of serve. */
  storeArgs: string[]
  close(): Promise<void>
}

/** The dataset in a store of its own, one part per partition (so sizes cannot move between two reads). */
async function seedServer(context: Mocha.Context): Promise<Setup> {
  const url = requireServerUrl(context)
  const store: Store = await storeOrSkip(context, backends[0])
  await insertRows(store, makeDataset({perRun: PER_RUN}))
  await store.command(`OPTIMIZE TABLE ${store.tableRef} FINAL`)
  return {
    async close() {
      await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store.close()
    },
    storeArgs: ['--clickhouse-url', url, '--database', store.info.database],
  }
}

async function seedEmbedded(): Promise<Setup> {
  const dataDir = tempDir('logbench-analyze-target-')
  await inEmbeddedChild({afterSeed: ['OPTIMIZE TABLE {table} FINAL'], dataDir, database: 'logs_db', seed: {perRun: PER_RUN}})
  return {
    async close() {
      rmSync(dataDir, {force: true, recursive: true})
    },
    storeArgs: ['--data-dir', dataDir, '--database', 'logs_db'],
  }
}

for (const [name, seed] of [
  ['server', seedServer],
  ['embedded', seedEmbedded],
] as const) {
  describe(`analyze --target, logbench serve holding the ${name} store`, function () {
    let setup: Setup
    let serve: Serve
    let proxy: {url: string; close: () => Promise<void>}
    let direct: {store: {version: string}; reports: Record<string, {logs?: number}>}
    const seen: string[] = []

    before(async function () {
      setup = await seed(this)
      // The same CLI reading the store itself, before serve holds it.
      const local = await runCli(['analyze', '--json', ...setup.storeArgs])
      expect(local.code, local.stderr).to.equal(0)
      direct = JSON.parse(local.stdout)
      serve = await startServe(setup.storeArgs)
      proxy = await recordingProxy(serve.url, seen)
    })

    after(async () => {
      await proxy?.close()
      if (serve) expect(await serve.stop(), 'serve exits 0 on SIGTERM').to.equal(0)
      await setup?.close()
    })

    beforeEach(() => {
      seen.length = 0
    })

    it('prints the same JSON as the store read directly, one request per report', async () => {
      const result = await runCli(['analyze', '--json', '--target', proxy.url], {env: {LOGBENCH_TOKEN: TOKEN}})
      expect(result.code, result.stderr).to.equal(0)
      const remote = JSON.parse(result.stdout)
      expect(remote.store).to.deep.equal(direct.store)
      expect(remote.reports).to.have.all.keys(...REPORT_NAMES)
      expect(remote.reports).to.deep.equal(direct.reports)
      expect(remote.reports.total.logs).to.equal(PER_RUN.reduce((sum, n) => sum + n, 0))
      expect(seen.filter((url) => url.startsWith('/api/reports/')).map((url) => url.split('?')[0])).to.deep.equal(REPORT_NAMES.map((report) => `/api/reports/${report}`))
    })

    it('sends the filters as query parameters, and a hostile --app stays a value', async () => {
      const result = await runCli(['analyze', 'total', 'apps', '--json', '--app', "x' OR 1=1 --", '--level', 'error', '--target', proxy.url], {env: {LOGBENCH_TOKEN: TOKEN}})
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json.reports.total.logs).to.equal(0)
      expect(json.reports.apps.rows).to.deep.equal([])
      expect(json.filters).to.deep.include({apps: ["x' OR 1=1 --"], levels: ['error']})
      const query = new URL(seen.find((url) => url.startsWith('/api/reports/total'))!, 'http://x').searchParams
      expect(query.getAll('app')).to.deep.equal(["x' OR 1=1 --"])
      expect(query.getAll('level')).to.deep.equal(['error'])
    })

    it('renders tables and the rates chart from the served report', async () => {
      const result = await runCli(['analyze', 'rates', '--bucket', '10s', '--target', proxy.url], {env: {LOGBENCH_TOKEN: TOKEN}})
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.include(`on ${name === 'server' ? 'ClickHouse' : 'embedded ClickHouse'} ${direct.store.version}`)
      expect(result.stdout).to.include('one column per 10s bucket (UTC)')
      expect(result.stdout).to.match(/logs\s+│\s+3,500 │/)
      expect(new URL(seen.find((url) => url.startsWith('/api/reports/rates'))!, 'http://x').searchParams.get('bucket')).to.equal('10000ms')
    })

    it('exits 3 when the target is not a serve with reports, refuses the token, or is not there', async () => {
      const notServe = await runCli(['analyze', 'total', '--target', `${proxy.url}/elsewhere`], {env: {LOGBENCH_TOKEN: TOKEN}})
      expect(notServe.code).to.equal(3)
      expect(notServe.stderr).to.match(/has no report endpoint/)
      const noToken = await runCli(['analyze', 'total', '--target', proxy.url], {env: {LOGBENCH_TOKEN: ''}})
      expect(noToken.code).to.equal(3)
      expect(noToken.stderr).to.include('LOGBENCH_TOKEN')
      const gone = await runCli(['analyze', 'total', '--target', 'http://127.0.0.1:1'])
      expect(gone.code).to.equal(3)
      expect(gone.stderr).to.include('cannot reach logbench serve at http://127.0.0.1:1 (ECONNREFUSED)')
    })
  })
}
