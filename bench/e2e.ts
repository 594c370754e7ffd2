/**
 * The guide's parallel test, end to end, beside its ceiling.
 *
 * 1. Starts a clickhouse-server (from PATH, in a temp directory), or uses
 *    --clickhouse-url.
 * 2. Raw ingest: the same synthetic rows as JSONEachRow INSERTs straight into
 *    ClickHouse over HTTP, in 2 concurrent streams of large INSERTs. This is
 *    what the server can take with nothing in front of it.
 * 3. The guide's test: `logbench parallel` (W workers x L logs, batches of
 *    1000) through serve (its own process, started as a user starts it) into
 *    the same server, then verified as `logbench merge` verifies: every
 *    acknowledged log stored.
 * 4. Prints both rates, their ratio, and the CPU each component spent a row.
 *    ClickHouse's CPU is counted in each phase until the merges its INSERTs
 *    caused have settled, and never over the verification's reads.
 *
 *   npx tsx bench/e2e.ts                                   # 4 x 2,000,000
 *   npx tsx bench/e2e.ts --workers 2 --logs-per-worker 100000
 *   npx tsx bench/e2e.ts --profile DIR     # also a V8 CPU profile of serve during the load
 *   npx tsx bench/e2e.ts --serve-bin PATH  # another build's bin/run.js (an older commit's) as serve
 */
import os from 'node:os'
import {parseArgs} from 'node:util'

import {LogSynth} from '../src/lib/load/generate/synth.js'
import {type LogRow, makeRowEncoder, openStore, type Store} from '../src/lib/store/index.js'
import {type RunningServer, startClickHouseServer} from '../test/fixtures/clickhouse-server.js'
import {runParallel, verifyResult} from './lib/cli.js'
import {mergesSettled} from './lib/merges.js'
import {cpuSeconds, cpuTimes} from './lib/proc.js'
import {startServeProcess} from './lib/serve-process.js'
import {target} from './lib/target.js'

const {values: flags} = parseArgs({
  options: {
    'batch-size': {default: '1000', type: 'string'},
    'clickhouse-url': {type: 'string'},
    concurrency: {default: '4', type: 'string'},
    'logs-per-worker': {default: '2000000', type: 'string'},
    profile: {type: 'string'},
    'raw-insert-rows': {default: '100000', type: 'string'},
    'raw-rows': {type: 'string'},
    'raw-streams': {default: '2', type: 'string'},
    'serve-bin': {type: 'string'},
    workers: {default: '4', type: 'string'},
  },
})
const workers = Number(flags.workers)
const logsPerWorker = Number(flags['logs-per-worker'])
const total = workers * logsPerWorker
const rawRows = Number(flags['raw-rows'] ?? total)
const rawInsertRows = Number(flags['raw-insert-rows'])
const rawStreams = Number(flags['raw-streams'])
const int = (n: number) => Math.round(n).toLocaleString('en-US')
const say = (line: string) => process.stdout.write(line + '\n')

/** Distinct JSONEachRow chunks of the synthetic logs, built before timing starts. */
function rawChunks(store: Store, chunks: number, rowsPerChunk: number): Buffer[] {
  const synth = new LogSynth({runId: 'bench-raw', seed: 1})
  const encode = makeRowEncoder(store.info.capabilities)
  const out: Buffer[] = []
  for (let c = 0; c < chunks; c++) {
    const logs = JSON.parse(synth.batch(c * rowsPerChunk, 1, rowsPerChunk, 'array', Date.now()).toString()) as Record<string, unknown>[]
    const now = Date.now()
    let body = ''
    for (const log of logs) {
      const metadata = log.metadata as {run_id: string; seq: number}
      const row: LogRow = {
        app_id: String(log.app_id),
        batch_id: '',
        created_at: now,
        level: log.level as LogRow['level'],
        message: String(log.message),
        metadata: JSON.stringify(log.metadata),
        run_id: metadata.run_id,
        seq: metadata.seq,
        source: String(log.source),
        timestamp: Date.parse(String(log.timestamp)),
      }
      body += encode(row)
    }

    out.push(Buffer.from(body))
  }

  return out
}

interface RawIngest {
  rowsPerSecond: number
  rows: number
  /** ClickHouse's CPU a row while the INSERTs ran, and until their merges settled. */
  cpu?: {inserts: number; settled: number}
}

async function rawIngest(store: Store, pid: number | undefined): Promise<RawIngest> {
  const perChunk = Math.min(rawInsertRows, rawRows)
  const chunks = rawChunks(store, Math.min(rawStreams * 2, Math.ceil(rawRows / perChunk)), perChunk)
  let next = 0
  const inserts = Math.ceil(rawRows / perChunk)
  const cpu0 = pid ? cpuSeconds(pid) : 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({length: rawStreams}, async () => {
      for (let i = next++; i < inserts; i = next++) await store.insert(chunks[i % chunks.length])
    }),
  )
  const seconds = (performance.now() - t0) / 1000
  const rows = inserts * perChunk
  const rowsPerSecond = rows / seconds
  if (!pid) return {rows, rowsPerSecond}
  const duringInserts = cpuSeconds(pid) - cpu0
  await mergesSettled(store, store.info.database)
  const settled = cpuSeconds(pid) - cpu0
  return {cpu: {inserts: (duringInserts * 1e6) / rows, settled: (settled * 1e6) / rows}, rows, rowsPerSecond}
}

async function main(): Promise<void> {
  let server: RunningServer | undefined
  let url = flags['clickhouse-url']
  if (!url) {
    server = await startClickHouseServer()
    url = server.url
  }

  const chPid = server?.pid
  const database = `bench_e2e_${process.pid}`
  const store = await openStore({clickhouseUrl: url, database})
  try {
    await store.ensureSchema()
    say(`ClickHouse ${store.info.version.text} at ${url}; ${os.cpus().length} CPU cores; Node ${process.version}`)

    const raw = await rawIngest(store, chPid)
    say(
      `raw ClickHouse ingest, ${rawStreams} streams of ${int(Math.min(rawInsertRows, rawRows))}-row JSONEachRow INSERTs: ` +
        `${int(raw.rowsPerSecond)} rows/s (${int(raw.rows)} rows)` +
        (raw.cpu ? `, ClickHouse ${raw.cpu.settled.toFixed(2)} µs CPU a row with its merges settled (${raw.cpu.inserts.toFixed(2)} while the INSERTs ran)` : ''),
    )
    await store.command(`TRUNCATE TABLE ${store.tableRef}`)

    // The profiler's flags come after the bin script's shebang flags.
    const nodeArgs = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${flags.profile}`] : undefined
    const serve = await startServeProcess(['--clickhouse-url', url, '--database', database], {bin: flags['serve-bin'], nodeArgs})
    const serveCpu0 = cpuTimes(serve.child.pid!)
    const ch0 = chPid ? cpuSeconds(chPid) : 0
    const load = {
      batchSize: flags['batch-size']!,
      clickhouseUrl: url,
      concurrency: flags.concurrency!,
      database,
      logsPerWorker: String(logsPerWorker),
      target: serve.url,
      workers: String(workers),
    }
    const run = await runParallel(load, {verify: false})
    const serveCpu1 = cpuTimes(serve.child.pid!)
    const serveCpu = {system: serveCpu1.system - serveCpu0.system, user: serveCpu1.user - serveCpu0.user}
    const chDuringLoad = chPid ? cpuSeconds(chPid) - ch0 : undefined
    const {stats: served} = await serve.stop()
    if (flags.profile) say(`CPU profile of serve during the load: in ${flags.profile}`)
    const settle = chPid ? await mergesSettled(store, database) : undefined
    const chCpu = chPid ? cpuSeconds(chPid) - ch0 : undefined

    // Verified only now, so that its reads are not counted as ClickHouse's ingest CPU.
    const result = await verifyResult(run, load)
    const acked = result.logs.acked
    const workerCpuMs = result.workers.reduce((sum, w) => sum + (w.result ? w.result.resources.cpuUserMs + w.result.resources.cpuSystemMs : 0), 0)
    const v = result.verification
    say(
      `logbench parallel, ${workers} workers x ${int(logsPerWorker)} logs, batches of ${flags['batch-size']}, through serve: ` +
        `${int(result.throughput.logsPerSecond)} logs/s (${int(acked)} acknowledged in ${(result.durationMs / 1000).toFixed(1)} s, ` +
        `p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms)`,
    )
    say(
      v
        ? `verification: ${int(v.acked)} acknowledged, ${int(v.stored)} stored, ${int(v.missing)} missing, ${int(v.duplicated)} duplicated`
        : `verification: not available (${result.verificationNote ?? 'no verification'})`,
    )
    const [counted] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef} WHERE run_id = {runId:String}`, {runId: result.runId})
    const workerSum = result.workers.reduce((sum, w) => sum + w.logs.acked, 0)
    const consistent = workerSum === acked && Number(counted.n) === acked
    say(`totals: workers ${int(workerSum)} = aggregate ${int(acked)} = rows of run ${result.runId} counted here ${int(Number(counted.n))}: ${consistent ? 'equal' : 'NOT EQUAL'}`)
    const perLog = (seconds: number) => ((seconds * 1e6) / Math.max(1, acked)).toFixed(2)
    const servePerLog = ((serveCpu.user + serveCpu.system) * 1e6) / Math.max(1, acked)
    say(
      `CPU a log: generators ${((workerCpuMs * 1000) / Math.max(1, result.logs.sent)).toFixed(2)} µs, serve ${servePerLog.toFixed(2)} µs (user ${perLog(serveCpu.user)}, system ${perLog(serveCpu.system)}; ${target('≤ 2.0 µs', servePerLog <= 2)})` +
        (chCpu === undefined ? '' : `, ClickHouse ${perLog(chCpu)} µs with its merges settled (${perLog(chDuringLoad!)} during the load, merges settled ${(settle!.waitedMs / 1000).toFixed(1)} s later)`),
    )
    if (served) {
      say(`rows per INSERT from serve: p50 ${int(served.rowsPerInsert.p50)}, p99 ${int(served.rowsPerInsert.p99)}, max ${int(served.rowsPerInsert.max)} (${int(served.inserts)} inserts)`)
    }

    if (chCpu !== undefined && raw.cpu) {
      const chRatio = (chCpu * 1e6) / Math.max(1, acked) / raw.cpu.settled
      say(`ClickHouse CPU a row, through serve / raw ingest, merges settled in both: ${chRatio.toFixed(2)}x (${target('≤ 1.3x', chRatio <= 1.3)})`)
    }

    const ratio = result.throughput.logsPerSecond / raw.rowsPerSecond
    say(`ratio (logbench through serve / raw ClickHouse ingest): ${ratio.toFixed(3)} (${target('≥ 0.45', ratio >= 0.45)})`)
    if (!v?.ok || result.workersFailed > 0 || !consistent) process.exitCode = 1
  } finally {
    await store.command(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {})
    await store.close()
    await server?.stop()
  }
}

await main()
