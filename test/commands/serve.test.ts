/**
 * logbench serve as a process: startup line, SIGTERM under load, who may use
 * it, and a ClickHouse server that goes away and comes back (through a proxy
 * the test closes, so any server works: the suite's own or CLICKHOUSE_URL's).
 * Orders are waited for as serve reports them, never after a fixed sleep.
 */
import {expect} from 'chai'
import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {promisify} from 'node:util'

import {openStore, type Store} from '../../src/lib/store/index.js'
import {binPath, repoRoot, runCli, serverUrl, tempDir, uniqueDatabase} from '../helpers.js'
import {until} from '../lib/ingest/memory-store.js'

interface ServeProcess {
  child: ChildProcess
  url: string
  stderr: () => string
  /** Resolves once stderr matches. */
  waitForStderr: (pattern: RegExp) => Promise<void>
  exited: Promise<number | null>
}

async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [binPath, 'serve', '--port', '0', ...args], {cwd: repoRoot, env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  const stderrWaiters: (() => void)[] = []
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
    for (const wake of stderrWaiters.splice(0)) wake()
  })
  const waitForStderr = async (pattern: RegExp) => {
    while (!pattern.test(stderr)) {
      if (child.exitCode !== null) throw new Error(`serve exited before ${pattern} on stderr: ${stderr}`)
      await new Promise<void>((resolve) => stderrWaiters.push(resolve))
    }
  }

  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk
      const match = /listening on (http:\/\/\S+)/.exec(stdout)
      if (match) resolve(match[1])
    })
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)))
  })
  // The line names the server's own version, whichever server the tests run against.
  const clickhouse = args[args.indexOf('--clickhouse-url') + 1]
  const version = (await (await fetch(`${clickhouse}/?query=${encodeURIComponent('SELECT version()')}`)).text()).trim()
  const escape = (text: string) => text.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  expect(stdout).to.match(new RegExp(`→ ClickHouse ${escape(version)} at ${escape(new URL(clickhouse).origin)}, table \\w+\\.logs`))
  return {child, exited, stderr: () => stderr, url, waitForStderr}
}

const logs = (run: string, from: number, n: number) =>
  JSON.stringify(Array.from({length: n}, (_, i) => ({app_id: 'svc', level: 'info', message: `m${from + i}`, metadata: {run_id: run, seq: from + i}})))

async function postStatus(url: string, body: string): Promise<{status: number; retryAfter: string | null; accepted?: number; error?: string}> {
  const response = await fetch(`${url}/api/logs/batch`, {body, headers: {'content-type': 'application/json'}, method: 'POST'})
  const json = (await response.json()) as {accepted?: number; error?: string}
  return {accepted: json.accepted, error: json.error, retryAfter: response.headers.get('retry-after'), status: response.status}
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

  it('on SIGTERM while 4 clients post, exits 0, answers each request 202 or 503, and every request answered 202 is stored', async () => {
    const serve = await startServe(['--clickhouse-url', serverUrl()!, '--database', database])
    const run = 'run-sigterm'
    let acked = 0
    let signalled = false
    const statuses: number[] = []
    const withoutRetryAfter: number[] = []
    const failedBeforeSignal: string[] = []
    const client = async (id: number) => {
      for (let i = 0; ; i++) {
        let reply
        try {
          reply = await postStatus(serve.url, logs(run, (id * 100_000 + i) * 500, 500))
        } catch (error) {
          // Once signalled, serve refuses new connections and closes idle ones: the client stops.
          if (!signalled) failedBeforeSignal.push(String((error as {cause?: {code?: string}}).cause?.code ?? error))
          return
        }

        statuses.push(reply.status)
        if (reply.status === 202) acked += reply.accepted!
        if (reply.status === 503 && !/^\d+$/.test(reply.retryAfter ?? '')) withoutRetryAfter.push(i)
        if (failedBeforeSignal.length > 0) return
      }
    }

    const clients = [0, 1, 2, 3].map((id) => client(id))
    // Under load: every client has had answers before the signal.
    await until(() => acked >= 4 * 2 * 500 || failedBeforeSignal.length > 0)
    signalled = true
    serve.child.kill('SIGTERM')
    expect(await serve.exited, serve.stderr()).to.equal(0)
    await Promise.all(clients)
    expect(failedBeforeSignal, 'no request failed before the signal').to.deep.equal([])
    expect([...new Set(statuses)].filter((status) => status !== 202 && status !== 503), 'statuses other than 202 and 503').to.deep.equal([])
    expect(withoutRetryAfter, 'every 503 carries Retry-After').to.deep.equal([])
    const [row] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef} WHERE run_id = {run:String}`, {run})
    expect(Number(row.n)).to.equal(acked)
    expect(serve.stderr()).to.match(/stopped after \d+ accepted logs/)
  })

  describe('no open door by default', () => {
    const store = () => ['--clickhouse-url', serverUrl()!, '--database', database]
    const env = {LOGBENCH_TOKEN: ''}
    const local = (url: string) => url.replace('0.0.0.0', '127.0.0.1')

    it('refuses to start on every interface without a token: exit 2, and how to fix it', async () => {
      const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', ...store()], {env})
      expect(result.code).to.equal(2)
      expect(result.stdout).to.not.include('listening')
      expect(result.stderr.trim().split('\n')).to.deep.equal([
        'Error: serve would listen on 0.0.0.0 (every interface) without a token: anyone who can reach it could write logs and read the reports',
        '  → set a token with --token or LOGBENCH_TOKEN (clients send "Authorization: Bearer <token>"), or pass --no-auth to serve it open on purpose',
      ])
    })

    it('starts open with --no-auth, and warns on stderr', async () => {
      const serve = await startServe(['--host', '0.0.0.0', '--no-auth', ...store()], env)
      try {
        expect(serve.url).to.match(/^http:\/\/0\.0\.0\.0:\d+$/)
        await serve.waitForStderr(/warning: .* takes requests without a token \(--no-auth\)/)
        expect((await postStatus(local(serve.url), logs('run-open', 0, 5))).status).to.equal(202)
      } finally {
        serve.child.kill('SIGTERM')
        expect(await serve.exited).to.equal(0)
      }
    })

    it('on every interface with a token, asks for it; on loopback without one, serves as before, without a warning', async () => {
      const guarded = await startServe(['--host', '0.0.0.0', '--token', 'tok', ...store()], env)
      const loopback = await startServe(store(), env)
      try {
        expect((await postStatus(local(guarded.url), logs('run-guarded', 0, 5))).status).to.equal(401)
        expect((await fetch(`${local(guarded.url)}/metrics`)).status).to.equal(401)
        expect((await postStatus(loopback.url, logs('run-loopback', 0, 5))).status).to.equal(202)
      } finally {
        for (const serve of [guarded, loopback]) {
          serve.child.kill('SIGTERM')
          expect(await serve.exited).to.equal(0)
          expect(serve.stderr()).to.not.include('warning')
        }
      }
    })
  })

  describe('in the background, as the README starts it', () => {
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }

    const refused = (port: number) =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1')
        socket.once('connect', () => {
          socket.destroy()
          resolve(false)
        })
        socket.once('error', () => resolve(true))
      })

    /**
     * `npx logbench serve … --pid-file F &` in a shell script, wait for F, post, then the stop
     * command the script gives; returns serve's pid, its port and what the script printed.
     */
    async function background(stop: (pidFile: string) => string, run: string): Promise<{pid: number; port: number; pidFile: string; out: string; launcher: number}> {
      const dir = tempDir('logbench-bg-')
      const pidFile = path.join(dir, 'serve.pid')
      const script = `
        npx logbench serve --port 0 --clickhouse-url ${serverUrl()} --database ${database} --pid-file ${pidFile} > ${dir}/serve.out 2>&1 &
        launcher=$!
        # Until serve has written its pid, or its launcher has ended (then the test fails on what it printed).
        while [ ! -s ${pidFile} ] && kill -0 $launcher 2>/dev/null; do sleep 0.1; done
        url=$(grep -o 'http://127.0.0.1:[0-9]*' ${dir}/serve.out | head -1)
        echo "pid=$(cat ${pidFile}) url=$url launcher=$!"
        URL="$url" node -e "fetch(process.env.URL + '/api/logs/batch', {method: 'POST', headers: {'content-type': 'application/json'}, body: process.argv[1]}).then((r) => console.log(r.status))" '${logs(run, 0, 50)}'
        ${stop(pidFile)}
      `
      const {stdout} = await promisify(execFile)('bash', ['-c', script], {cwd: repoRoot, env: {...process.env, NO_COLOR: '1'}})
      const match = /pid=(\d+) url=http:\/\/127\.0\.0\.1:(\d+) launcher=(\d+)/.exec(stdout)
      expect(match, stdout + readFileSync(path.join(dir, 'serve.out'), 'utf8')).to.not.equal(null)
      return {launcher: Number(match![3]), out: stdout, pid: Number(match![1]), pidFile, port: Number(match![2])}
    }

    async function expectStopped(pid: number, port: number, pidFile: string) {
      // However long it takes on a loaded machine (the test's own timeout bounds it).
      while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 100))
      expect(await refused(port), 'the port is free').to.equal(true)
      expect(existsSync(pidFile), 'the pid file is removed').to.equal(false)
    }

    it('stops on kill $(cat FILE) of --pid-file, after storing what it acknowledged', async () => {
      const run = 'run-bg-pidfile'
      const {out, pid, pidFile, port} = await background((file) => `kill $(cat ${file})`, run)
      expect(out).to.match(/\n202\n/)
      await expectStopped(pid, port, pidFile)
      const [row] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef} WHERE run_id = {run:String}`, {run})
      expect(row.n).to.equal(50)
    })

    it('stops on kill $! too: the npx that started it going away stops serve', async () => {
      const {launcher, out, pid, pidFile, port} = await background(() => 'kill $!', 'run-bg-launcher')
      expect(out).to.match(/\n202\n/)
      expect(launcher, "$! is npm's process, not serve's").to.not.equal(pid)
      await expectStopped(pid, port, pidFile)
    })
  })

  describe('when ClickHouse goes away', function () {
    let proxy: Awaited<ReturnType<typeof startProxy>> | undefined

    before(async () => {
      proxy = await startProxy(new URL(serverUrl()!))
    })

    after(async () => {
      await proxy?.close()
    })

    it('answers 503 with Retry-After at once, /health 503, and recovers without a restart', async () => {
      const serve = await startServe(['--clickhouse-url', proxy!.url, '--database', database])
      try {
        expect((await postStatus(serve.url, logs('run-outage', 0, 10))).status).to.equal(202)
        await proxy!.pause()

        // Nothing waits for an INSERT to time out: the store is known to be down from the refused connection.
        const first = await postStatus(serve.url, logs('run-outage', 10, 10))
        expect(first.status).to.equal(503)
        expect(first.retryAfter).to.match(/^\d+$/)
        expect(first.error).to.match(/storage is unavailable|cannot reach ClickHouse/)
        const second = await postStatus(serve.url, logs('run-outage', 20, 10))
        expect(second.status).to.equal(503)
        expect(second.error).to.equal('storage is unavailable; retry later')
        expect((await fetch(`${serve.url}/health`)).status).to.equal(503)
        expect(await (await fetch(`${serve.url}/metrics`)).text()).to.match(/^logbench_ingest_store_up 0$/m)

        await proxy!.resume()
        // Serve's own probe finds the store again; no restart.
        await until(async () => (await fetch(`${serve.url}/health`)).status === 200)
        expect((await postStatus(serve.url, logs('run-outage', 1000, 10))).status).to.equal(202)
        expect(serve.stderr()).to.include('store reachable again')
        const [row] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef} WHERE run_id = 'run-outage' AND seq >= 10 AND seq < 1000`)
        expect(Number(row.n), 'nothing refused with 503 was stored').to.equal(0)
      } finally {
        serve.child.kill('SIGTERM')
        await serve.exited
      }
    })
  })
})

/**
 * A TCP proxy to a ClickHouse server that the test can take away: pause() stops listening and
 * cuts every connection (serve then meets refused connections, as with a stopped server),
 * resume() listens again on the same port.
 */
async function startProxy(target: URL): Promise<{url: string; pause(): Promise<void>; resume(): Promise<void>; close(): Promise<void>}> {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port), target.hostname)
        for (const [socket, other] of [
          [client, upstream],
          [upstream, client],
        ]) {
          sockets.add(socket)
          socket.on('error', () => other.destroy())
          socket.on('close', () => {
            sockets.delete(socket)
            other.destroy()
          })
        }

        client.pipe(upstream).pipe(client)
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve((server!.address() as net.AddressInfo).port))
    })
  const port = await listen(0)
  const pause = async () => {
    const closed = new Promise((resolve) => server!.close(resolve))
    for (const socket of sockets) socket.destroy()
    await closed
  }

  return {close: pause, pause, resume: async () => void (await listen(port)), url: `http://127.0.0.1:${port}`}
}
