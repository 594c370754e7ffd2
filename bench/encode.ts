/**
 * serve's body-to-insert path alone, in this process: the generator's own
 * batches (1000 logs, the bodies `logbench run` sends) encoded into each insert
 * format, CPU per log over several rounds. No HTTP, no ClickHouse: what the
 * profile calls the scanner and the row writer.
 *
 *   npx tsx bench/encode.ts [--rounds 5] [--batches 500] [--batch 1000]
 */
import {parseArgs} from 'node:util'

import {encodeBody} from '../src/lib/ingest/encode-body.js'
import {makeRowWriter} from '../src/lib/ingest/row-format.js'
import {DEFAULT_LIMITS, type EncodeContext} from '../src/lib/ingest/validate.js'
import {LogSynth} from '../src/lib/load/generate/synth.js'

const {values: args} = parseArgs({
  options: {batch: {default: '1000', type: 'string'}, batches: {default: '500', type: 'string'}, rounds: {default: '5', type: 'string'}},
})
const batch = Number(args.batch)
const synth = new LogSynth({runId: 'bench-encode-20261201', seed: 1})
const bodies = Array.from({length: Number(args.batches)}, (_, i) => Buffer.from(synth.batch(i * batch, 1, batch, 'array', Date.now())))
const bytesPerLog = bodies.reduce((sum, body) => sum + body.length, 0) / (bodies.length * batch)
console.log(`${bodies.length} bodies of ${batch} logs, ${bytesPerLog.toFixed(0)} bytes a log; Node ${process.version}`)

for (const [format, dateTime64] of [['RowBinary', false], ['RowBinary', true], ['JSONEachRow', true]] as const) {
  const writer = makeRowWriter(format, {dateTime64})
  const ctx: EncodeContext = {batchId: 'bench-encode-20261201-w1-b000123', caps: {dateTime64}, limits: DEFAULT_LIMITS, now: Date.now()}
  const perLog: number[] = []
  // Round 0 warms the JIT up and is not counted.
  for (let round = 0; round <= Number(args.rounds); round++) {
    const start = process.cpuUsage()
    let rows = 0
    for (const body of bodies) {
      const result = encodeBody(body, 'json', ctx, writer)
      if (!result.ok) throw new Error(`the generator's body was refused: ${result.error}`)
      rows += result.rows
    }

    const used = process.cpuUsage(start)
    if (round > 0) perLog.push((used.user + used.system) / rows)
  }

  const sorted = [...perLog].sort((a, b) => a - b)
  const type = format === 'RowBinary' ? (dateTime64 ? ', DateTime64' : ', DateTime') : ''
  console.log(`${format}${type}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} µs CPU a log (rounds: ${perLog.map((x) => x.toFixed(2)).join(', ')})`)
}
