/**
 * What verification costs on the table the logs land in: logbench's own
 * schema (run_id and seq columns) against the guide's shape (run id and seq
 * inside the JSON metadata, read with visitParamExtract* on 18.16), same rows,
 * same server (a clickhouse-server started here). Prints the time of one
 * counting pass and rows counted per second; every pass must find all rows.
 *
 *   npx tsx bench/verify.ts [--rows 2000000] [--rounds 3]
 */
import {parseArgs} from 'node:util'

import {openStoreCounter, verifyRun} from '../src/lib/verify/verify.js'
import {openStore} from '../src/lib/store/index.js'
import {startClickHouseServer} from '../test/fixtures/clickhouse-server.js'
import {guideTableSql} from '../test/fixtures/guide-app.js'

const {values: args} = parseArgs({options: {rounds: {default: '3', type: 'string'}, rows: {default: '2000000', type: 'string'}}})
const rows = Number(args.rows)
const rounds = Number(args.rounds)
const WORKERS = 4
const BATCH = 1000

const server = await startClickHouseServer()
try {
  const own = await openStore({clickhouseUrl: server.url, database: 'bench'})
  await own.ensureSchema()
  const guide = await openStore({clickhouseUrl: server.url, database: 'guide_db', table: 'logs'})
  for (const sql of guideTableSql()) await guide.command(sql)
  // The same rows in both tables: seqs 0..rows-1 of run "bench", with metadata as the generator writes it.
  const metadata = `concat('{"run_id":"bench","seq":', toString(number), ',"request_id":"req-', toString(number), '"}')`
  await own.command(
    `INSERT INTO bench.logs SELECT now(), now(), 'app', 'info', 'message', 'source', ${metadata}, 'bench', number, '' FROM system.numbers LIMIT ${rows}`,
  )
  await guide.command(`INSERT INTO guide_db.logs SELECT 'app', 'info', 'message', 'source', ${metadata}, now() FROM system.numbers LIMIT ${rows}`)
  const input = {
    acked: rows,
    batchSize: BATCH,
    failedKeys: [],
    failedKeysComplete: true,
    runId: 'bench',
    sentBatches: Array.from({length: WORKERS}, (_, k) => Math.ceil(Math.ceil((rows - k) / WORKERS) / BATCH)),
    workers: WORKERS,
  }
  console.log(`ClickHouse ${server.version}, ${rows.toLocaleString('en-US')} rows of one run, ${WORKERS} workers × batches of ${BATCH}, median of ${rounds} passes`)
  for (const [name, store] of [
    ["logbench's schema (run_id, seq columns)", own],
    ["the guide's table (run id and seq in JSON metadata)", guide],
  ] as const) {
    const counter = await openStoreCounter(store)
    const times: number[] = []
    for (let round = 0; round < rounds; round++) {
      const started = performance.now()
      const v = await verifyRun(counter, input)
      times.push(performance.now() - started)
      if (!v.ok || v.stored !== rows) throw new Error(`${name}: verification found ${v.stored} of ${rows} rows (${v.missing} missing)`)
    }

    const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
    console.log(`${name.padEnd(52)} ${(median / 1000).toFixed(2).padStart(6)} s a pass, ${Math.round(rows / (median / 1000)).toLocaleString('en-US').padStart(12)} rows/s`)
  }

  await own.close()
  await guide.close()
} finally {
  await server.stop()
}
