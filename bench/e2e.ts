/**
 * The guide's parallel test, end to end, beside its ceiling.
 *
 * 1. Starts a clickhouse-server (from PATH, in a temp directory), or uses
 *    --clickhouse-url.
 * 2. Raw ingest: the same synthetic rows as JSONEachRow INSERTs straight into
 *    ClickHouse over HTTP, in 2 concurrent streams of large INSERTs. This is
 *    what the server can take with nothing in front of it.
 * 3. The guide's test: `logbench parallel` (W workers x L logs, batches of
 *    1000) through serve (started in this process) into the same server,
 *    verified: every acknowledged log stored.
 * 4. Prints both rates, their ratio, and the CPU each component spent a row.
 *
 *   npx tsx bench/e2e.ts                                   # 4 x 2,000,000
 *   npx tsx bench/e2e.ts --workers 2 --logs-per-worker 100000
 *   npx tsx bench/e2e.ts --profile DIR     # also a V8 CPU profile of serve (this process) during the load
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {Session} from 'node:inspector/promises'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import type {AggregateResult} from '../src/lib/load/result.js'

import {startIngestServer} from '../src/lib/ingest/index.js'
import {LogSynth} from '../src/lib/load/generate/synth.js'
import {type LogRow, makeRowEncoder, openStore, type Store} from '../src/lib/store/index.js'
import {type RunningServer, startClickHouseServer} from '../test/fixtures/clickhouse-server.js'
import {runParallel} from './lib/cli.js'
import {cpuSeconds} from './lib/proc.js'

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

async function rawIngest(store: Store, pid: number | undefined): Promise<{rowsPerSecond: number; cpuUsPerRow?: number; rows: number}> {
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
  const cpu = pid ? cpuSeconds(pid) - cpu0 : undefined
  return {cpuUsPerRow: cpu === undefined ? undefined : (cpu * 1e6) / rows, rows, rowsPerSecond: rows / seconds}
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
        (raw.cpuUsPerRow === undefined ? '' : `, ClickHouse ${raw.cpuUsPerRow.toFixed(2)} µs CPU a row`),
    )
    await store.command(`TRUNCATE TABLE ${store.tableRef}`)

    const serve = await startIngestServer({port: 0, store})
    const profiler = flags.profile ? new Session() : undefined
    if (profiler) {
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.start')
    }

    const serveCpu0 = process.cpuUsage()
    const ch0 = chPid ? cpuSeconds(chPid) : 0
    let result: AggregateResult
    try {
      result = await runParallel({
        batchSize: flags['batch-size']!,
        clickhouseUrl: url,
        concurrency: flags.concurrency!,
        database,
        logsPerWorker: String(logsPerWorker),
        target: serve.url,
        workers: String(workers),
      })
    } finally {
      await serve.stop()
    }

    const served = serve.stats()
    if (profiler) {
      const {profile} = await profiler.post('Profiler.stop')
      mkdirSync(flags.profile!, {recursive: true})
      const file = path.join(flags.profile!, `serve-e2e-${process.pid}.cpuprofile`)
      writeFileSync(file, JSON.stringify(profile))
      say(`CPU profile of serve during the load: ${file}`)
      profiler.disconnect()
    }

    const serveCpu = process.cpuUsage(serveCpu0)
    const chCpu = chPid ? cpuSeconds(chPid) - ch0 : undefined
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
        : 'verification: not available',
    )
    const [counted] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef} WHERE run_id = {runId:String}`, {runId: result.runId})
    const workerSum = result.workers.reduce((sum, w) => sum + w.logs.acked, 0)
    const consistent = workerSum === acked && Number(counted.n) === acked
    say(`totals: workers ${int(workerSum)} = aggregate ${int(acked)} = rows of run ${result.runId} counted here ${int(Number(counted.n))}: ${consistent ? 'equal' : 'NOT EQUAL'}`)
    say(
      `CPU a log: generators ${((workerCpuMs * 1000) / Math.max(1, result.logs.sent)).toFixed(2)} µs, ` +
        `serve ${(((serveCpu.user + serveCpu.system) / Math.max(1, acked))).toFixed(2)} µs ` +
        `(user ${(serveCpu.user / Math.max(1, acked)).toFixed(2)}, system ${(serveCpu.system / Math.max(1, acked)).toFixed(2)})` +
        (chCpu === undefined ? '' : `, ClickHouse ${((chCpu * 1e6) / Math.max(1, acked)).toFixed(2)} µs`),
    )
    say(
      `rows per INSERT from serve: p50 ${int(served.rowsPerInsert.p50)}, p99 ${int(served.rowsPerInsert.p99)}, max ${int(served.rowsPerInsert.max)} ` +
        `(${int(served.inserts)} inserts)`,
    )
    if (chCpu !== undefined && raw.cpuUsPerRow !== undefined) {
      say(`ClickHouse CPU a row, through serve / raw ingest: ${((chCpu * 1e6) / Math.max(1, acked) / raw.cpuUsPerRow).toFixed(2)}x`)
    }

    say(`ratio (logbench through serve / raw ClickHouse ingest): ${(result.throughput.logsPerSecond / raw.rowsPerSecond).toFixed(3)}`)
    if (!v?.ok || result.workersFailed > 0 || !consistent) process.exitCode = 1
  } finally {
    await store.command(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {})
    await store.close()
    await server?.stop()
  }
}

await main()
