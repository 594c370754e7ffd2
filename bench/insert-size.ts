/**
 * What an INSERT's size costs the store: the same logs (the generator's own,
 * encoded by serve's body-to-insert path, distinct rows in every INSERT) go
 * into a fresh logs table in INSERTs of each size, one stream. For each size it
 * prints rows/s, the store's CPU a row (during the INSERTs, and including the
 * merges of the few seconds after), and how many rows the background merges
 * rewrote for each row inserted (system.events MergedRows / InsertedRows).
 *
 * The server is a clickhouse-server started here (or --clickhouse-url); with
 * --embedded the embedded engine runs in this process, and its CPU is this
 * process's, less the encoding done before timing starts.
 *
 *   npx tsx bench/insert-size.ts [--rows 2000000] [--sizes 15000,100000] [--settle 4] [--embedded]
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import type {InsertFormat, Store} from '../src/lib/store/index.js'

import {encodeBody} from '../src/lib/ingest/encode-body.js'
import {insertFormatFor, makeRowWriter} from '../src/lib/ingest/row-format.js'
import {DEFAULT_LIMITS} from '../src/lib/ingest/validate.js'
import {LogSynth} from '../src/lib/load/generate/synth.js'
import {openStore} from '../src/lib/store/index.js'
import {startClickHouseServer} from '../test/fixtures/clickhouse-server.js'
import {cpuSeconds} from './lib/proc.js'

const {values: args} = parseArgs({
  options: {
    'clickhouse-url': {type: 'string'},
    embedded: {default: false, type: 'boolean'},
    rows: {default: '2000000', type: 'string'},
    settle: {default: '4', type: 'string'},
    sizes: {default: '15000,100000', type: 'string'},
  },
})
const totalRows = Number(args.rows)
const sizes = args.sizes!.split(',').map(Number)
const settleMs = Number(args.settle) * 1000
const int = (n: number) => Math.round(n).toLocaleString('en-US')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Distinct insert bodies of `size` rows, `totalRows` in all, encoded the way serve encodes them. */
function bodies(store: Store, format: InsertFormat, size: number): Buffer[] {
  const synth = new LogSynth({runId: `bench-insert-${size}`, seed: size})
  const caps = store.info.capabilities
  const writer = makeRowWriter(format, caps)
  const out: Buffer[] = []
  for (let first = 0; first < totalRows; first += size) {
    const count = Math.min(size, totalRows - first)
    const body = synth.batch(first, 1, count, 'array', Date.now())
    const encoded = encodeBody(body, 'json', {batchId: `bench-${first}`, caps, limits: DEFAULT_LIMITS, now: Date.now()}, writer)
    if (!encoded.ok) throw new Error(`the generator's body was refused: ${encoded.error}`)
    out.push(Buffer.from(encoded.encoded))
  }

  return out
}

async function events(store: Store): Promise<Map<string, number>> {
  const rows = await store.query<{event: string; value: number}>(
    "SELECT event, value FROM system.events WHERE event IN ('InsertedRows', 'MergedRows', 'MergesTimeMilliseconds', 'MergeTotalMilliseconds')",
  )
  return new Map(rows.map((row) => [row.event, Number(row.value)]))
}

async function main(): Promise<void> {
  const server = args.embedded || args['clickhouse-url'] ? undefined : await startClickHouseServer()
  const dataDir = args.embedded ? mkdtempSync(path.join(os.tmpdir(), 'logbench-insert-size-')) : undefined
  const store = await openStore(
    args.embedded ? {dataDir, database: 'bench_insert_size'} : {clickhouseUrl: args['clickhouse-url'] ?? server!.url, database: 'bench_insert_size'},
  )
  const cpu = () => {
    if (!args.embedded) return cpuSeconds(server!.pid!)
    const used = process.cpuUsage()
    return (used.user + used.system) / 1e6
  }
  try {
    await store.ensureSchema()
    const format = await insertFormatFor(store)
    console.log(
      `${args.embedded ? 'embedded engine' : 'ClickHouse server'} ${store.info.version.text}; ${int(totalRows)} rows of the generator's logs as ${format}, ` +
        `one stream; ${os.cpus().length} CPU cores`,
    )
    for (const size of sizes) {
      const prepared = bodies(store, format, size)
      await store.command(`TRUNCATE TABLE ${store.tableRef}`)
      await sleep(1000)
      const before = await events(store)
      const cpu0 = cpu()
      const t0 = performance.now()
      for (const body of prepared) await store.insert(body, {format})
      const seconds = (performance.now() - t0) / 1000
      const during = cpu() - cpu0
      await sleep(settleMs)
      const withMerges = cpu() - cpu0
      const after = await events(store)
      const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0)
      const [{n}] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`)
      if (Number(n) !== totalRows) throw new Error(`stored ${n} rows of ${totalRows}`)
      console.log(
        `${int(size)} rows an INSERT (${prepared.length} INSERTs): ${int(totalRows / seconds)} rows/s; ` +
          `CPU a row ${((during * 1e6) / totalRows).toFixed(2)} µs during the INSERTs, ${((withMerges * 1e6) / totalRows).toFixed(2)} µs with ${args.settle} s after; ` +
          `merges rewrote ${(delta('MergedRows') / Math.max(1, delta('InsertedRows'))).toFixed(2)} rows a row inserted (${int(delta('MergesTimeMilliseconds') + delta('MergeTotalMilliseconds'))} ms of merging)`,
      )
    }
  } finally {
    await store.command('DROP DATABASE IF EXISTS bench_insert_size').catch(() => {})
    await store.close()
    await server?.stop()
    if (dataDir) rmSync(dataDir, {force: true, recursive: true})
  }
}

await main()
