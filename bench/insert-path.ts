/**
 * Which HTTP path inserts faster into ClickHouse: the store's undici path
 * (pre-encoded JSONEachRow text) or @clickhouse/client (its insert() of row
 * objects, and its exec() with the same pre-encoded text)? Same rows, same
 * server (a clickhouse-server started here), interleaved rounds.
 *
 *   npx tsx bench/insert-path.ts [--rows 1000000] [--batch 100000] [--rounds 3]
 */
import {createClient} from '@clickhouse/client'
import {Readable} from 'node:stream'
import {parseArgs} from 'node:util'

import {LEVELS, type LogRow, makeRowEncoder, openStore} from '../src/lib/store/index.js'
import {startClickHouseServer} from '../test/fixtures/clickhouse-server.js'

const {values: args} = parseArgs({options: {batch: {default: '100000', type: 'string'}, rows: {default: '1000000', type: 'string'}, rounds: {default: '3', type: 'string'}}})
const totalRows = Number(args.rows)
const batchRows = Number(args.batch)
const rounds = Number(args.rounds)

const server = await startClickHouseServer()
const store = await openStore({clickhouseUrl: server.url, database: 'bench'})
await store.ensureSchema()
const encode = makeRowEncoder(store.info.capabilities)
const now = Date.now()
const rows: LogRow[] = Array.from({length: batchRows}, (_, i) => ({
  app_id: ['payment-service', 'auth-service', 'api-gateway', 'notification-service'][i % 4],
  batch_id: '',
  created_at: now,
  level: LEVELS[i % 5],
  message: `Processed request ${i} for user ${i * 7919} in ${i % 300} ms`,
  metadata: JSON.stringify({region: 'eu-west-1', request_id: `req-${i}`, run_id: 'bench', seq: i}),
  run_id: 'bench',
  seq: i,
  source: `host-${i % 16}`,
  timestamp: now - i,
}))
const text = rows.map((row) => encode(row)).join('')
// serve hands the store one Buffer a batch; both raw paths get that same Buffer.
const body = Buffer.from(text)
const objects = text.trim().split('\n').map((line) => JSON.parse(line))
const client = createClient({clickhouse_settings: {}, url: server.url})

const paths: Record<string, () => Promise<void>> = {
  'undici, pre-encoded text (store)': () => store.insert(body),
  '@clickhouse/client exec, same text': async () => {
    const result = await client.exec({query: `INSERT INTO bench.logs FORMAT JSONEachRow`, values: Readable.from([body])})
    result.stream.resume()
    await new Promise((resolve) => result.stream.on('end', resolve))
  },
  '@clickhouse/client insert, row objects': async () => {
    await client.insert({format: 'JSONEachRow', table: 'bench.logs', values: objects})
  },
}

const results: Record<string, {wallMs: number; cpuMs: number}[]> = {}
for (let round = 0; round < rounds; round++) {
  for (const [name, insert] of Object.entries(paths)) {
    const cpu = process.cpuUsage()
    const started = performance.now()
    for (let done = 0; done < totalRows; done += batchRows) await insert()
    const wallMs = performance.now() - started
    const used = process.cpuUsage(cpu)
    ;(results[name] ??= []).push({cpuMs: (used.user + used.system) / 1000, wallMs})
  }
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
console.log(`ClickHouse ${server.version}, ${totalRows.toLocaleString('en-US')} rows in inserts of ${batchRows.toLocaleString('en-US')}, median of ${rounds} rounds`)
const base = median(results['undici, pre-encoded text (store)'].map((r) => r.wallMs))
for (const [name, runs] of Object.entries(results)) {
  const wall = median(runs.map((r) => r.wallMs))
  const cpu = median(runs.map((r) => r.cpuMs))
  console.log(
    `${name.padEnd(40)} ${Math.round(totalRows / (wall / 1000)).toLocaleString('en-US').padStart(10)} rows/s   client CPU ${((cpu * 1000) / totalRows).toFixed(2)} µs/row   time ratio vs store ${(wall / base).toFixed(2)}`,
  )
}

await client.close()
await store.close()
await server.stop()
