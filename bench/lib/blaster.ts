/**
 * A minimal HTTP load source for measuring serve itself: posts pre-built
 * batches as fast as the server answers, `concurrency` in flight, for a time.
 * The batches are the generator's own (the bodies `logbench run` sends: a
 * timestamp, rich metadata), each request with an Idempotency-Key as the
 * sender sends it. Runs as its own process so its CPU is not counted as serve's.
 *   tsx bench/lib/blaster.ts URL SECONDS CONCURRENCY BATCH_SIZE ID
 */
import {Pool} from 'undici'

import {LogSynth} from '../../src/lib/load/generate/synth.js'

const [url, seconds, concurrency, batchSize, id] = process.argv.slice(2)
const size = Number(batchSize)
const runId = `blast-${id}`
const synth = new LogSynth({runId, seed: Number(id) + 1})
const bodies: Buffer[] = []
for (let b = 0; b < 16; b++) bodies.push(Buffer.from(synth.batch(b * size, 1, size, 'array', Date.now())))

const pool = new Pool(url, {connections: Number(concurrency), pipelining: 1})
const deadline = Date.now() + Number(seconds) * 1000
let acked = 0
let refused = 0
let next = 0
async function loop() {
  while (Date.now() < deadline) {
    const {body, statusCode} = await pool.request({
      body: bodies[next % bodies.length],
      headers: {'content-type': 'application/json', 'idempotency-key': `${runId}-b${next++}`},
      method: 'POST',
      path: '/api/logs/batch',
    })
    await body.dump()
    if (statusCode === 202) acked += size
    else refused++
  }
}

await Promise.all(Array.from({length: Number(concurrency)}, loop))
await pool.close()
process.stdout.write(JSON.stringify({acked, refused}) + '\n')
