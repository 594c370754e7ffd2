/**
 * The embedded engine's own ceiling for the zero-setup job: rows like the generator's
 * (its batches of 1,000 logs, encoded by serve's RowBinary writer before timing starts)
 * written straight into chDB by this process, with no HTTP and no serve, as RowBinary
 * read from a file on a memory-backed file system, in INSERTs of --insert-rows rows, one
 * stream, into a fresh logs table. Prints one JSON line: rows/s over the INSERTs (writing
 * each file included) and the process's CPU a row (the engine's threads included).
 *
 * Run in a process of its own (bench/zero-setup.ts does), so nothing else shares it:
 *   npx tsx bench/lib/engine-ceiling.ts [--rows 1000000] [--insert-rows 100000]
 */
import {mkdtempSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {encodeBody} from '../../src/lib/ingest/encode-body.js'
import {makeRowWriter} from '../../src/lib/ingest/row-format.js'
import {DEFAULT_LIMITS} from '../../src/lib/ingest/validate.js'
import {LogSynth} from '../../src/lib/load/generate/synth.js'
import {capabilitiesFor, COLUMNS, parseVersion} from '../../src/lib/store/index.js'
import {createDatabaseSql, createTableSql} from '../../src/lib/store/schema.js'
import {quoteString} from '../../src/lib/store/sql.js'

export interface EngineCeiling {
  version: string
  rows: number
  insertRows: number
  seconds: number
  rowsPerSecond: number
  cpuMicrosPerRow: number
}

const {values: flags} = parseArgs({options: {'insert-rows': {default: '100000', type: 'string'}, rows: {default: '1000000', type: 'string'}}})
const rows = Number(flags.rows)
const insertRows = Number(flags['insert-rows'])
const REQUEST_ROWS = 1000

const {Session} = await import('chdb')
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'logbench-ceiling-'))
const fileDir = mkdtempSync(path.join(os.platform() === 'linux' ? '/dev/shm' : os.tmpdir(), 'logbench-ceiling-'))
const session = new Session(dataDir)
try {
  const version = parseVersion((await session.queryAsync('SELECT version()', {format: 'TabSeparated'})).text())
  const caps = capabilitiesFor(version)
  await session.queryAsync(createDatabaseSql('ceiling'))
  await session.queryAsync(createTableSql('ceiling', 'logs', caps))
  const types = new Map(
    (await session.queryAsync("SELECT name, type FROM system.columns WHERE database = 'ceiling' AND table = 'logs'", {format: 'JSONEachRow'}))
      .text()
      .trim()
      .split('\n')
      .map((line) => {
        const {name, type} = JSON.parse(line) as {name: string; type: string}
        return [name, type] as const
      }),
  )
  const structure = COLUMNS.map((column) => `${column} ${types.get(column)}`).join(', ')

  // The generator's requests, as serve encodes them, merged into bodies of insertRows rows.
  const synth = new LogSynth({runId: 'engine-ceiling', seed: 20})
  const writer = makeRowWriter('RowBinary', caps)
  const bodies: Buffer[] = []
  for (let first = 0; first < rows; first += insertRows) {
    const parts: Buffer[] = []
    for (let at = first; at < Math.min(rows, first + insertRows); at += REQUEST_ROWS) {
      const count = Math.min(REQUEST_ROWS, rows - at, first + insertRows - at)
      const now = Date.now()
      const encoded = encodeBody(synth.batch(at, 1, count, 'array', now), 'json', {batchId: `ceiling-${at}`, caps, limits: DEFAULT_LIMITS, now}, writer)
      if (!encoded.ok) throw new Error(`the generator's body was refused: ${encoded.error}`)
      parts.push(Buffer.from(encoded.encoded))
    }

    bodies.push(Buffer.concat(parts))
  }

  const cpu = () => {
    const used = process.cpuUsage()
    return (used.user + used.system) / 1e6
  }

  const cpu0 = cpu()
  const t0 = performance.now()
  for (const [i, body] of bodies.entries()) {
    const file = path.join(fileDir, `${i}.rowbinary`)
    writeFileSync(file, body)
    await session.queryAsync(`INSERT INTO ceiling.logs (${COLUMNS.join(', ')}) SELECT * FROM file(${quoteString(file)}, 'RowBinary', ${quoteString(structure)})`)
    unlinkSync(file)
  }

  const seconds = (performance.now() - t0) / 1000
  const cpuSeconds = cpu() - cpu0
  const stored = Number((await session.queryAsync('SELECT count() FROM ceiling.logs', {format: 'TabSeparated'})).text())
  if (stored !== rows) throw new Error(`stored ${stored} rows of ${rows}`)
  const result: EngineCeiling = {cpuMicrosPerRow: (cpuSeconds * 1e6) / rows, insertRows, rows, rowsPerSecond: rows / seconds, seconds, version: version.text}
  process.stdout.write(JSON.stringify(result) + '\n')
} finally {
  session.close()
  rmSync(dataDir, {force: true, recursive: true})
  rmSync(fileDir, {force: true, recursive: true})
}
