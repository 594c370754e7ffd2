/**
 * serve beside the ingest API a reader of the guide builds (test/fixtures/guide-app.ts:
 * node:http, JSON.parse, one awaited @clickhouse/client insert() per request, 200
 * after it), under the same `logbench parallel` load, into one fresh clickhouse-server
 * started here. Each peer runs as a process of its own; each run is verified after it, as
 * `logbench merge` verifies (acknowledged = stored, 0 missing). Prints for each: logs/s,
 * p50/p99, CPU per log of generators, the peer and ClickHouse (until the merges its INSERTs
 * caused have settled, never over the verification's reads), rows per INSERT; then the ratio.
 *
 *   npx tsx bench/peers.ts [--workers 4] [--logs-per-worker 500000] [--batch-size 1000] [--rounds 1]
 *                          [--serve-bin PATH (another build's bin/run.js, e.g. an older commit's)]
 */
import {type ChildProcess, spawn} from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {openStore, type Store} from '../src/lib/store/index.js'
import {startClickHouseServer} from '../test/fixtures/clickhouse-server.js'
import {runParallel, verifyResult} from './lib/cli.js'
import {mergesSettled} from './lib/merges.js'
import {cpuSeconds, peakRssBytes} from './lib/proc.js'
import {target} from './lib/target.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: flags} = parseArgs({
  options: {
    'batch-size': {default: '1000', type: 'string'},
    concurrency: {default: '4', type: 'string'},
    'logs-per-worker': {default: '500000', type: 'string'},
    rounds: {default: '1', type: 'string'},
    'serve-bin': {type: 'string'},
    workers: {default: '4', type: 'string'},
  },
})
const int = (n: number) => Math.round(n).toLocaleString('en-US')
const say = (line: string) => process.stdout.write(line + '\n')

interface Peer {
  name: string
  /** Database (its table is `logs`) the run verifies against. */
  database: string
  start(clickhouseUrl: string): {child: ChildProcess; stdout: () => string; stderr: () => string}
}

function spawnPeer(command: string, args: string[]): {child: ChildProcess; stdout: () => string; stderr: () => string} {
  const child = spawn(command, args, {cwd: root, env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk) => (out += chunk))
  child.stderr!.on('data', (chunk) => {
    err += chunk
    process.stderr.write(chunk)
  })
  return {child, stderr: () => err, stdout: () => out}
}

const peers: Peer[] = [
  {
    database: 'guide_db',
    name: "the guide's design",
    // One process (the tsx command would run the app in a child of its own, out of reach of its CPU count).
    start: (url) => spawnPeer(process.execPath, ['--import', 'tsx', path.join(root, 'test/fixtures/guide-app.ts'), '--clickhouse-url', url, '--port', '0']),
  },
  {
    database: 'serve_db',
    name: 'logbench serve',
    // As a user starts it (the bin script and its shebang's Node flags); --json prints its stats on exit.
    start: (url) => spawnPeer(flags['serve-bin'] ?? path.join(root, 'bin/run.js'), ['serve', '--port', '0', '--clickhouse-url', url, '--database', 'serve_db', '--json']),
  },
]

async function waitForUrl(output: () => string, child: ChildProcess): Promise<string> {
  for (;;) {
    const match = /listening (?:on )?(http:\/\/\S+)/.exec(output())
    if (match) return match[1]
    if (child.exitCode !== null) throw new Error(`peer exited with ${child.exitCode} before listening`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** ClickHouse's own count of INSERT statements and inserted rows so far. */
async function insertCounters(store: Store): Promise<{inserts: number; rows: number}> {
  const rows = await store.query<{event: string; value: number}>("SELECT event, value FROM system.events WHERE event IN ('InsertQuery', 'InsertedRows')")
  const value = (name: string) => Number(rows.find((row) => row.event === name)?.value ?? 0)
  return {inserts: value('InsertQuery'), rows: value('InsertedRows')}
}

interface Measured {
  logsPerSecond: number
  p50: number
  p99: number
  acked: number
  verified: string
  ok: boolean
  /** clickhouse: until the merges settled; clickhouseLoad: while the load ran. */
  cpu: {generators: number; peer: number; clickhouse: number; clickhouseLoad: number}
  rowsPerInsert: string
  peakRssMiB: number
}

async function measure(peer: Peer, url: string, chPid: number, store: Store): Promise<Measured> {
  const {child, stderr, stdout} = peer.start(url)
  const target = await waitForUrl(() => stdout() + stderr(), child)
  const peerCpu0 = cpuSeconds(child.pid!)
  const ch0 = cpuSeconds(chPid)
  const counters0 = await insertCounters(store)
  const load = {
    batchSize: flags['batch-size']!,
    clickhouseUrl: url,
    concurrency: flags.concurrency!,
    database: peer.database,
    logsPerWorker: flags['logs-per-worker']!,
    target: `${target}/api/logs/batch`,
    workers: flags.workers!,
  }
  const run = await runParallel(load, {verify: false})
  const peerCpu = cpuSeconds(child.pid!) - peerCpu0
  const chLoad = cpuSeconds(chPid) - ch0
  const counters = await insertCounters(store)
  const peak = peakRssBytes(child.pid!)
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  await mergesSettled(store, peer.database)
  const chCpu = cpuSeconds(chPid) - ch0
  // Verified only now, so that its reads are not counted as ClickHouse's ingest CPU.
  const result = await verifyResult(run, load)
  const acked = result.logs.acked
  const workerCpuMs = result.workers.reduce((sum, w) => sum + (w.result ? w.result.resources.cpuUserMs + w.result.resources.cpuSystemMs : 0), 0)
  const v = result.verification
  const inserts = counters.inserts - counters0.inserts
  let rowsPerInsert = `mean ${int((counters.rows - counters0.rows) / Math.max(1, inserts))} (${int(inserts)} INSERTs, from system.events)`
  // serve prints its own exact figures (--json) on exit.
  const served = stdout().trim()
  if (served.startsWith('{')) {
    const stats = (JSON.parse(served) as {stats?: {rowsPerInsert?: {p50: number; p99: number}}}).stats
    if (stats?.rowsPerInsert) rowsPerInsert = `p50 ${int(stats.rowsPerInsert.p50)}, p99 ${int(stats.rowsPerInsert.p99)}, ${rowsPerInsert}`
  }

  return {
    acked,
    cpu: {clickhouse: (chCpu * 1e6) / Math.max(1, acked), clickhouseLoad: (chLoad * 1e6) / Math.max(1, acked), generators: (workerCpuMs * 1000) / Math.max(1, result.logs.sent), peer: (peerCpu * 1e6) / Math.max(1, acked)},
    logsPerSecond: result.throughput.logsPerSecond,
    ok: Boolean(v?.ok) && v?.missing === 0 && result.workersFailed === 0,
    p50: result.latency.p50Ms,
    p99: result.latency.p99Ms,
    peakRssMiB: peak / 1024 / 1024,
    rowsPerInsert,
    verified: v ? `${int(v.acked)} acknowledged, ${int(v.stored)} stored, ${int(v.missing)} missing, ${int(v.duplicated)} duplicated` : `not verified: ${result.verificationNote ?? 'no verification'}`,
  }
}

const clickhouse = await startClickHouseServer()
const store = await openStore({clickhouseUrl: clickhouse.url, database: 'serve_db'})
let failed = false
try {
  say(`ClickHouse ${clickhouse.version} (fresh, at ${clickhouse.url}); ${os.cpus().length} CPU cores; Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  say(`serve: ${flags['serve-bin'] ?? 'bin/run.js of this checkout'}`)
  say(`load: logbench parallel, ${flags.workers} workers x ${int(Number(flags['logs-per-worker']))} logs, batches of ${flags['batch-size']}, ${flags.concurrency} in flight a worker`)
  const rates: Record<string, number[]> = {}
  for (let round = 1; round <= Number(flags.rounds); round++) {
    for (const peer of peers) {
      const m = await measure(peer, clickhouse.url, clickhouse.pid!, store)
      ;(rates[peer.name] ??= []).push(m.logsPerSecond)
      failed ||= !m.ok
      say(`\n${peer.name} (round ${round}): ${int(m.logsPerSecond)} logs/s, p50 ${m.p50} ms, p99 ${m.p99} ms`)
      say(`  verification: ${m.verified}`)
      say(`  CPU a log: generators ${m.cpu.generators.toFixed(2)} µs, ${peer.name} ${m.cpu.peer.toFixed(2)} µs, ClickHouse ${m.cpu.clickhouse.toFixed(2)} µs with its merges settled (${m.cpu.clickhouseLoad.toFixed(2)} during the load)`)
      say(`  rows per INSERT: ${m.rowsPerInsert}`)
      say(`  peak RSS of the peer: ${m.peakRssMiB.toFixed(0)} MiB`)
    }
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const [guide, serve] = peers.map((peer) => median(rates[peer.name]))
  say(`\nratio (logbench serve / the guide's design, logs/s${Number(flags.rounds) > 1 ? ', medians' : ''}): ${(serve / guide).toFixed(2)}x (${target('≥ 2.5x', serve / guide >= 2.5)})`)
  say(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
} finally {
  await store.close()
  await clickhouse.stop()
}

process.exit(failed ? 1 : 0)
