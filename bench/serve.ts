/**
 * serve under sustained load: throughput, CPU per row (serve and ClickHouse),
 * peak RSS of serve, and a check that every acknowledged log is stored.
 *
 *   npx tsx bench/serve.ts [--seconds 60] [--clients 4] [--concurrency 4] [--batch 1000] [--embedded]
 *                          [--serve-args '--insert-concurrency 1'] [--profile DIR (V8 CPU profile of serve)]
 *                          [--serve-bin PATH (another build's bin/run.js, e.g. an older commit's)]
 *
 * Clients are separate processes (bench/lib/blaster.ts) posting pre-built
 * batches, so their CPU is not counted as serve's.
 */
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs, promisify} from 'node:util'

import {openStore} from '../src/lib/store/index.js'
import {startClickHouseServer} from '../test/fixtures/clickhouse-server.js'
import {cpuSeconds, peakRssBytes} from './lib/proc.js'
import {startServeProcess} from './lib/serve-process.js'
import {target} from './lib/target.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: args} = parseArgs({
  options: {
    batch: {default: '1000', type: 'string'},
    clients: {default: '4', type: 'string'},
    concurrency: {default: '4', type: 'string'},
    embedded: {default: false, type: 'boolean'},
    profile: {type: 'string'},
    seconds: {default: '60', type: 'string'},
    'serve-args': {default: '', type: 'string'},
    'serve-bin': {type: 'string'},
  },
})

const clickhouse = args.embedded ? undefined : await startClickHouseServer()
const dataDir = args.embedded ? mkdtempSync(path.join(os.tmpdir(), 'logbench-bench-')) : undefined
const storeArgs = clickhouse ? ['--clickhouse-url', clickhouse.url, '--database', 'bench'] : ['--data-dir', dataDir!, '--database', 'bench']
// Started as a user starts it: the bin script and its shebang's Node flags (then the profiler's).
const profileArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : undefined
const serve = await startServeProcess([...storeArgs, ...args['serve-args'].split(' ').filter(Boolean)], {bin: args['serve-bin'], nodeArgs: profileArgs})
const {url} = serve
const pid = serve.child.pid!

const serveCpu0 = cpuSeconds(pid)
const chCpu0 = clickhouse?.pid ? cpuSeconds(clickhouse.pid) : 0
const started = performance.now()
const tsx = path.join(root, 'node_modules/.bin/tsx')
const clientRuns = Array.from({length: Number(args.clients)}, (_, id) =>
  promisify(execFile)(tsx, [path.join(root, 'bench/lib/blaster.ts'), url, args.seconds, args.concurrency, args.batch, String(id)]),
)
const outputs = await Promise.all(clientRuns)
const wall = (performance.now() - started) / 1000
const serveCpu = cpuSeconds(pid) - serveCpu0
const chCpu = clickhouse?.pid ? cpuSeconds(clickhouse.pid) - chCpu0 : 0
const peak = peakRssBytes(pid)
const totals = outputs.map((o) => JSON.parse(o.stdout) as {acked: number; refused: number}).reduce((a, b) => ({acked: a.acked + b.acked, refused: a.refused + b.refused}))

const {code, stats: served} = await serve.stop()
const store = await openStore(clickhouse ? {clickhouseUrl: clickhouse.url, database: 'bench'} : {dataDir, database: 'bench'})
const [{n: stored}] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`)
await store.close()

const rate = totals.acked / wall
console.log(`store: ${clickhouse ? `ClickHouse server ${clickhouse.version}` : 'embedded engine (serve process)'}; ${args.clients} client processes × ${args.concurrency} in flight × ${args.batch} logs a request, ${args.seconds} s`)
console.log(`acked ${totals.acked.toLocaleString('en-US')} logs, stored ${stored.toLocaleString('en-US')}, refused requests ${totals.refused}, serve exit ${code}`)
console.log(`throughput ${Math.round(rate).toLocaleString('en-US')} logs/s`)
console.log(`serve CPU ${((serveCpu * 1e6) / totals.acked).toFixed(2)} µs/log${clickhouse ? `, ClickHouse CPU ${((chCpu * 1e6) / totals.acked).toFixed(2)} µs/log` : ' (includes the embedded engine)'}`)
console.log(`serve peak RSS ${(peak / 1024 / 1024).toFixed(0)} MiB (${target('≤ 300 MiB', peak <= 300 * 1024 * 1024)})`)
if (served) console.log(`rows per INSERT: p50 ${served.rowsPerInsert.p50.toLocaleString('en-US')}, p99 ${served.rowsPerInsert.p99.toLocaleString('en-US')} (${served.inserts} inserts)`)
await clickhouse?.stop()
if (dataDir) rmSync(dataDir, {force: true, recursive: true})
process.exit(stored === totals.acked ? 0 : 1)
