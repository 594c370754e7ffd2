/**
 * A minimal HTTP load source for measuring serve itself: posts pre-built
 * batches as fast as the server answers, `concurrency` in flight, for a time.
 * Runs as its own process so its CPU is not counted as serve's.
 *   tsx bench/lib/blaster.ts URL SECONDS CONCURRENCY BATCH_SIZE ID
 */
import {Pool} from 'undici'

const [url, seconds, concurrency, batchSize, id] = process.argv.slice(2)
const size = Number(batchSize)
const apps = ['payment-service', 'auth-service', 'api-gateway', 'notification-service']
const levels = ['debug', 'info', 'info', 'info', 'warn', 'error']
const bodies: string[] = []
for (let b = 0; b < 16; b++) {
  const logs = []
  for (let i = 0; i < size; i++) {
    const n = b * size + i
    logs.push({
      app_id: apps[n % 4],
      level: levels[n % levels.length],
      message: `Processed request ${n} for user ${(n * 7919) % 100_000} in ${n % 300} ms`,
      metadata: {region: 'eu-west-1', request_id: `req-${id}-${n}`, run_id: `blast-${id}`, seq: n},
      source: `host-${n % 16}`,
    })
  }

  bodies.push(JSON.stringify(logs))
}

const pool = new Pool(url, {connections: Number(concurrency), pipelining: 1})
const deadline = Date.now() + Number(seconds) * 1000
let acked = 0
let refused = 0
let next = 0
async function loop() {
  while (Date.now() < deadline) {
    const {body, statusCode} = await pool.request({
      body: bodies[next++ % bodies.length],
      headers: {'content-type': 'application/json'},
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
