/**
 * logbench serve as a process: startup line, SIGTERM under load, and a
 * ClickHouse server that goes away and comes back.
 */
import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'

import {openStore, type Store} from '../../src/lib/store/index.js'
import {type RunningServer, startClickHouseServer} from '../fixtures/clickhouse-server.js'
import {binPath, repoRoot, serverUrl, uniqueDatabase} from '../helpers.js'

interface ServeProcess {
  child: ChildProcess
  url: string
  stderr: () => string
  exited: Promise<number | null>
}

async function startServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [binPath, 'serve', '--port', '0', ...args], {cwd: repoRoot, env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk
      const match = /listening on (http:\/\/\S+)/.exec(stdout)
      if (match) resolve(match[1])
    })
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)))
  })
  expect(stdout).to.match(/→ ClickHouse 18\.\d+\.\d+ at http:\/\/127\.0\.0\.1:\d+, table \w+\.logs/)
  return {child, exited, stderr: () => stderr, url}
}

const logs = (run: string, from: number, n: number) =>
  JSON.stringify(Array.from({length: n}, (_, i) => ({app_id: 'svc', level: 'info', message: `m${from + i}`, metadata: {run_id: run, seq: from + i}})))

async function postStatus(url: string, body: string): Promise<{status: number; retryAfter: string | null; accepted?: number}> {
  const response = await fetch(`${url}/api/logs/batch`, {body, headers: {'content-type': 'application/json'}, method: 'POST'})
  const json = (await response.json()) as {accepted?: number}
  return {accepted: json.accepted, retryAfter: response.headers.get('retry-after'), status: response.status}
}

describe('logbench serve (process)', function () {
  let store: Store | undefined
  const database = uniqueDatabase('lbserve')

  before(async function () {
    if (!serverUrl()) this.skip()
    store = await openStore({clickhouseUrl: serverUrl(), database})
  })

  after(async () => {
    await store?.command(`DROP DATABASE IF EXISTS \`${database}\``)
    await store?.close()
  })

  it('on SIGTERM while 4 clients post, exits 0 and every request answered 202 is stored', async () => {
    const serve = await startServe(['--clickhouse-url', serverUrl()!, '--database', database])
    const run = 'run-sigterm'
    let acked = 0
    let stop = false
    const client = async (id: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const reply = await postStatus(serve.url, logs(run, (id * 100_000 + i) * 500, 500))
          if (reply.status === 202) acked += reply.accepted!
          else expect(reply.status).to.equal(503)
        } catch {
          return
        }
      }
    }

    const clients = [0, 1, 2, 3].map((id) => client(id))
    await new Promise((resolve) => setTimeout(resolve, 1500))
    serve.child.kill('SIGTERM')
    expect(await serve.exited, serve.stderr()).to.equal(0)
    stop = true
    await Promise.all(clients)
    expect(acked).to.be.greaterThan(0)
    const [row] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef} WHERE run_id = {run:String}`, {run})
    expect(row.n).to.equal(acked)
    expect(serve.stderr()).to.match(/stopped after \d+ accepted logs/)
  })

  describe('when ClickHouse goes away', function () {
    let own: RunningServer | undefined

    before(async () => {
      own = await startClickHouseServer()
    })

    after(async () => {
      await own?.stop()
    })

    it('answers 503 with Retry-After within 5 s, /health 503, and recovers without a restart', async () => {
      const serve = await startServe(['--clickhouse-url', own!.url])
      try {
        expect((await postStatus(serve.url, logs('run-outage', 0, 10))).status).to.equal(202)
        await own!.pause()

        const started = Date.now()
        const first = await postStatus(serve.url, logs('run-outage', 10, 10))
        expect(first.status).to.equal(503)
        expect(first.retryAfter).to.match(/^\d+$/)
        expect(Date.now() - started).to.be.lessThan(5000)
        const second = await postStatus(serve.url, logs('run-outage', 20, 10))
        expect(second.status).to.equal(503)
        expect((await fetch(`${serve.url}/health`)).status).to.equal(503)

        await own!.resume()
        let status = 0
        for (let attempt = 0; attempt < 50 && status !== 202; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 200))
          status = (await postStatus(serve.url, logs('run-outage', 1000 + attempt * 10, 10))).status
        }

        expect(status).to.equal(202)
        expect((await fetch(`${serve.url}/health`)).status).to.equal(200)
        const check = await openStore({clickhouseUrl: own!.url})
        const [row] = await check.query<{n: number}>(`SELECT count() AS n FROM ${check.tableRef} WHERE run_id = 'run-outage' AND seq >= 10 AND seq < 1000`)
        await check.close()
        expect(row.n, 'nothing refused with 503 was stored').to.equal(0)
      } finally {
        serve.child.kill('SIGTERM')
        await serve.exited
      }
    })
  })
})
