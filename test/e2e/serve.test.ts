/**
 * serve, black-box over HTTP, on both back ends: the acceptance checks of the
 * ingest endpoint. Storage is real (ClickHouse 18.16 and the embedded engine).
 * Where a test needs an order (inserts held while requests gather, an INSERT
 * that fails), the real store is wrapped so that its inserts wait for the test
 * or run a statement first; the rows still go to the real table.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import net from 'node:net'

import {type IngestServer, startIngestServer} from '../../src/lib/ingest/index.js'
import {epochMsExpr, type Store} from '../../src/lib/store/index.js'
import {backends, storeOrSkip} from '../helpers.js'
import {brokenBody, canonicalMetadata, entriesOf, expectedRow, randomBody, sortedRows, validBody} from '../lib/ingest/body-model.js'
import {insertGate, metricValue, until} from '../lib/ingest/memory-store.js'

function batch(run: string, from: number, count: number): Record<string, unknown>[] {
  const logs = []
  for (let seq = from; seq < from + count; seq++) {
    logs.push({
      app_id: ['payment-service', 'auth-service', 'api-gateway', 'notification-service'][seq % 4],
      level: ['debug', 'info', 'warn', 'error', 'fatal'][seq % 5],
      message: `request ${seq} handled — "quoted" \\ back\nslash ü`,
      metadata: {region: seq % 2 ? 'eu' : 'us', run_id: run, seq},
      source: `host-${seq % 7}`,
      timestamp: 1_764_331_200_000 + seq,
    })
  }

  return logs
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype']

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{status: number; json: any; headers: Headers}> {
  const response = await fetch(`${url}/api/logs/batch`, {body, headers: {'content-type': 'application/json', ...headers}, method: 'POST'})
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }

  return {headers: response.headers, json, status: response.status}
}

async function count(store: Store, run?: string): Promise<number> {
  const [row] = run
    ? await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef} WHERE run_id = {run:String}`, {run})
    : await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`)
  return row.n
}

/** The real store, with its inserts going through `insert` (which calls the real one, numbered from 1). */
function storeWithInserts(store: Store, insert: (real: Store['insert'], n: number, ...args: Parameters<Store['insert']>) => Promise<void>): Store {
  let n = 0
  const real = store.insert.bind(store)
  return new Proxy(store, {
    get(target, property) {
      if (property === 'insert') return (...args: Parameters<Store['insert']>) => insert(real, ++n, ...args)
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** One HTTP/1.1 request as bytes, for a raw connection. */
const rawRequest = (body: string) => `POST /api/logs/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

for (const backend of backends) {
  describe(`serve on the ${backend.name} back end`, function () {
    let store: Store
    let server: IngestServer

    before(async function () {
      store = await storeOrSkip(this, backend)
      server = await startIngestServer({port: 0, store, token: 'test-token'})
    })

    after(async () => {
      await server?.stop()
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    const auth = {authorization: 'Bearer test-token'}

    it('stores 100 POSTs of 1000 logs sent 8 at a time, exactly, every field of every row as sent, concurrent requests merged', async () => {
      const run = 'run-hundred'
      // Inserts wait until the first request of each of the 8 clients is in: those must share INSERTs.
      const held = insertGate()
      const local = await startIngestServer({port: 0, store: storeWithInserts(store, async (real, _n, ...args) => (await held.gate(), real(...args))), token: 'test-token'})
      const unit = (ms: number) => (store.info.capabilities.dateTime64 ? ms : Math.floor(ms / 1000))
      const startedAt = unit(Date.now())
      const statuses: number[] = []
      let next = 0
      const worker = async () => {
        while (next < 100) {
          const i = next++
          const response = await post(local.url, JSON.stringify(batch(run, i * 1000, 1000)), {...auth, 'idempotency-key': `hundred-${i}`})
          statuses.push(response.status)
          expect(response.json).to.deep.equal({accepted: 1000})
        }
      }

      const workers = Promise.all(Array.from({length: 8}, worker))
      await until(async () => (await metricValue(local.metrics.bufferRows)) === 8000)
      held.open()
      await workers
      const endedAt = unit(Date.now())
      const stats = local.stats()
      await local.stop()
      expect(statuses.filter((status) => status === 202)).to.have.length(100)
      expect(stats.rowsPerInsert.max, 'an INSERT carried several requests').to.be.at.least(2000)
      expect(stats.inserts).to.be.lessThan(100)

      const caps = store.info.capabilities
      const rows = await store.query<Record<string, any>>(
        `SELECT ${epochMsExpr('timestamp', caps)} AS ts, ${epochMsExpr('created_at', caps)} AS created, app_id, level, message, source, metadata, run_id, seq, batch_id
         FROM ${store.tableRef} WHERE run_id = {run:String} ORDER BY seq`,
        {run},
      )
      expect(rows).to.have.length(100_000)
      const sent = batch(run, 0, 100_000)
      const precision = caps.dateTime64 ? 1 : 1000
      for (const [i, row] of rows.entries()) {
        const log = sent[i]
        const {created, metadata, ts, ...fields} = row
        expect({...fields, seq: Number(fields.seq)}, `row ${i}`).to.deep.equal({
          app_id: log.app_id,
          batch_id: `hundred-${Math.floor(i / 1000)}`,
          level: log.level,
          message: log.message,
          run_id: run,
          seq: i,
          source: log.source,
        })
        expect(JSON.parse(metadata), `row ${i}`).to.deep.equal(log.metadata)
        expect(Number(ts), `row ${i}`).to.equal(Math.floor((log.timestamp as number) / precision) * precision)
        expect(unit(Number(created)), `row ${i}: created_at is the time of ingest`).to.be.within(startedAt, endedAt)
      }
    })

    it('turns bad requests away with their documented status and a JSON error, storing nothing', async () => {
      const before = await count(store)
      const good = JSON.stringify(batch('run-bad', 0, 3))
      const cases: {name: string; body: string; headers: Record<string, string>; status: number}[] = [
        {body: '[{"app_id": "a", "message": ', headers: auth, name: 'broken JSON', status: 400},
        {body: JSON.stringify([{app_id: 'a', level: 'loud', message: 'm'}]), headers: auth, name: 'bad level', status: 400},
        {body: JSON.stringify([{message: 'm'}]), headers: auth, name: 'missing app_id', status: 400},
        {body: '[' + '"x",'.repeat(5 * 1024 * 1024) + '"x"]', headers: auth, name: '20 MB body', status: 413},
        {body: good, headers: {...auth, 'content-type': 'text/plain'}, name: 'text/plain', status: 415},
        {body: good, headers: {}, name: 'missing token', status: 401},
        {body: good, headers: {authorization: 'Bearer wrong'}, name: 'wrong token', status: 401},
        {
          body: '[{"app_id":"a","message":"m","metadata":' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}]',
          headers: auth,
          name: 'metadata nested 100,000 levels',
          status: 400,
        },
        {
          body: Buffer.concat([Buffer.from('[{"app_id":"a","message":"caf'), Buffer.from([0xe9]), Buffer.from('"}]')]),
          headers: auth,
          name: 'invalid UTF-8',
          status: 400,
        },
      ]
      for (const c of cases) {
        const response = await post(server.url, c.body, c.headers)
        expect(response.status, c.name).to.equal(c.status)
        expect(response.json, c.name).to.have.property('error').that.is.a('string')
        if (c.status === 400 && c.name !== 'broken JSON' && c.name !== 'invalid UTF-8') {
          expect(response.json.details[0], c.name).to.include.keys('index', 'field', 'reason')
          expect(response.json.details[0].index).to.equal(0)
        }
      }

      expect(await count(store)).to.equal(before)
      const ok = await post(server.url, good, auth)
      expect(ok.status).to.equal(202)
      expect(await count(store)).to.equal(before + 3)
    })

    it('stores exactly what a generated, mutated or random body says, or refuses it with 400 (property)', async () => {
      // Generated event times end 2 s before any request, so a row stamped at ingest is told apart.
      const now = Date.now() - 2000
      const dateTime64 = store.info.capabilities.dateTime64
      const unit = (ms: number) => (dateTime64 ? ms : Math.floor(ms / 1000))
      const bodies = fc.oneof(validBody(now), brokenBody(now), randomBody)
      let n = 0
      let accepted = 0
      const prototypeKeys = new Set<string>()
      await fc.assert(
        fc.asyncProperty(bodies, async ({bytes, format}) => {
          const key = `prop-${n++}`
          const type = format === 'ndjson' ? 'application/x-ndjson' : 'application/json'
          const sentAt = unit(Date.now())
          const response = await post(server.url, bytes, {...auth, 'content-type': type, 'idempotency-key': key})
          const answeredAt = unit(Date.now())
          const rows = await store.query<Record<string, any>>(
            `SELECT app_id, level, message, source, metadata, run_id, seq, batch_id, ${epochMsExpr('timestamp', store.info.capabilities)} AS ts
             FROM ${store.tableRef} WHERE batch_id = {key:String}`,
            {key},
          )
          if (response.status !== 202) {
            expect(response.status).to.equal(400)
            expect(response.json.error).to.be.a('string')
            expect(rows).to.have.length(0)
            return
          }

          accepted++
          for (const name of PROTOTYPE_KEYS) if (bytes.includes(`"${name}":`)) prototypeKeys.add(name)
          const entries = entriesOf(bytes, format) as Record<string, unknown>[]
          expect(response.json.accepted).to.equal(entries.length)
          const stored = rows.map(({ts, ...row}) => {
            const timestamp = unit(Number(ts))
            return {...row, metadata: canonicalMetadata(row.metadata), timestamp: timestamp >= sentAt && timestamp <= answeredAt ? 'at ingest' : timestamp}
          })
          const expected = entries.map((entry) => {
            const {created_at: _, ...row} = expectedRow(entry, now, key, dateTime64)
            return {...row, timestamp: entry.timestamp === undefined || entry.timestamp === null ? 'at ingest' : row.timestamp}
          })
          expect(sortedRows(stored as never)).to.deep.equal(sortedRows(expected as never))
        }),
        {numRuns: 60, seed: 11},
      )
      expect(accepted).to.be.greaterThan(5)
      // Metadata keys that name parts of a JavaScript prototype were among the stored ones.
      expect([...prototypeKeys].sort()).to.deep.equal([...PROTOTYPE_KEYS].sort())
    })

    it('takes one object, {"logs": [...]} and NDJSON on both routes', async () => {
      const logs = batch('run-shapes', 0, 4)
      const one = await fetch(`${server.url}/api/logs`, {body: JSON.stringify(logs[0]), headers: {...auth, 'content-type': 'application/json'}, method: 'POST'})
      const wrapped = await post(server.url, JSON.stringify({logs: [logs[1]]}), auth)
      const ndjson = await fetch(`${server.url}/api/logs/batch`, {
        body: logs.slice(2).map((log) => JSON.stringify(log)).join('\n') + '\n',
        headers: {...auth, 'content-type': 'application/x-ndjson'},
        method: 'POST',
      })
      expect([one.status, wrapped.status, ndjson.status]).to.deep.equal([202, 202, 202])
      expect(await ndjson.json()).to.deep.equal({accepted: 2})
      expect(await count(store, 'run-shapes')).to.equal(4)
    })

    it('stores a retried Idempotency-Key once and records it in batch_id', async () => {
      const body = JSON.stringify(batch('run-idem', 0, 10))
      const headers = {...auth, 'idempotency-key': 'batch-key-1'}
      const [a, b] = await Promise.all([post(server.url, body, headers), post(server.url, body, headers)])
      const c = await post(server.url, body, headers)
      expect([a.status, b.status, c.status]).to.deep.equal([202, 202, 202])
      expect(c.json).to.deep.equal({accepted: 10, replayed: true})
      expect(await count(store, 'run-idem')).to.equal(10)
      const [row] = await store.query<{ids: string[]}>(`SELECT groupUniqArray(batch_id) AS ids FROM ${store.tableRef} WHERE run_id = {run:String}`, {run: 'run-idem'})
      expect(row.ids).to.deep.equal(['batch-key-1'])
    })

    it('reports health and Prometheus metrics', async () => {
      const health = await fetch(`${server.url}/health`, {headers: auth})
      expect(health.status).to.equal(200)
      const body = (await health.json()) as any
      expect(body.store).to.include({kind: backend.name, reachable: true})
      expect(body.buffer).to.include.keys('rows', 'bytes', 'maxRows', 'maxBytes')
      const metrics = await (await fetch(`${server.url}/metrics`, {headers: auth})).text()
      expect(metrics).to.match(/^logbench_ingest_accepted_total \d+/m)
      expect(metrics).to.match(/logbench_ingest_rejected_requests_total\{reason="invalid"\} [1-9]/)
      expect(metrics).to.include('logbench_ingest_insert_duration_seconds_bucket')
      expect(metrics).to.include('logbench_ingest_buffer_fill_ratio')
    })

    it('a failed INSERT with an Idempotency-Key stores nothing; its retry tries anew, is stored once, then replayed', async () => {
      const away = `${store.info.table}_away`
      const moveTable = (from: string, to: string) => store.command(`RENAME TABLE \`${store.info.database}\`.\`${from}\` TO \`${store.info.database}\`.\`${to}\``)
      // The first INSERT really fails in the store: its table is away, and back before the answer.
      const local = await startIngestServer({
        port: 0,
        store: storeWithInserts(store, async (real, n, ...args) => {
          if (n !== 1) return real(...args)
          await moveTable(store.info.table, away)
          try {
            await real(...args)
          } finally {
            await moveTable(away, store.info.table)
          }
        }),
      })
      try {
        const run = 'run-idem-failed'
        const body = JSON.stringify(batch(run, 0, 10))
        const headers = {'idempotency-key': 'failed-key-1'}
        const first = await post(local.url, body, headers)
        expect(first.status).to.equal(503)
        expect(first.json.error).to.match(/^insert failed, nothing from this request was stored: /)
        expect(await count(store, run)).to.equal(0)
        const retry = await post(local.url, body, headers)
        expect(retry.status).to.equal(202)
        expect(retry.json).to.deep.equal({accepted: 10})
        const again = await post(local.url, body, headers)
        expect(again.json).to.deep.equal({accepted: 10, replayed: true})
        expect(await count(store, run)).to.equal(10)
        expect(local.stats()).to.include({failedInserts: 1, inserts: 1})
      } finally {
        await local.stop()
      }
    })

    it('of several retries waiting on an Idempotency-Key whose INSERT fails, exactly one is stored', async () => {
      const away = `${store.info.table}_away`
      const moveTable = (from: string, to: string) => store.command(`RENAME TABLE \`${store.info.database}\`.\`${from}\` TO \`${store.info.database}\`.\`${to}\``)
      const held = insertGate()
      let started!: () => void
      const firstStarted = new Promise<void>((resolve) => (started = resolve))
      const local = await startIngestServer({
        port: 0,
        store: storeWithInserts(store, async (real, n, ...args) => {
          if (n !== 1) return real(...args)
          started()
          await held.gate()
          await moveTable(store.info.table, away)
          try {
            await real(...args)
          } finally {
            await moveTable(away, store.info.table)
          }
        }),
      })
      try {
        const run = 'run-idem-waiting'
        const body = JSON.stringify(batch(run, 0, 10))
        const headers = {'idempotency-key': 'failed-key-2'}
        const first = post(local.url, body, headers)
        await firstStarted
        const retries = [post(local.url, body, headers), post(local.url, body, headers)]
        await until(async () => (await metricValue(local.metrics.keyWaits)) === 2)
        held.open()
        const [a, b, c] = await Promise.all([first, ...retries])
        expect(a.status).to.equal(503)
        expect([b.status, c.status]).to.deep.equal([202, 202])
        expect([b.json.replayed, c.json.replayed].filter(Boolean)).to.have.length(1)
        expect(await count(store, run)).to.equal(10)
        expect(local.stats()).to.include({failedInserts: 1, inserts: 1})
      } finally {
        await local.stop()
      }
    })

    it('on stop, answers and stores every request in flight, then refuses new ones', async () => {
      const held = insertGate()
      const local = await startIngestServer({port: 0, store: storeWithInserts(store, async (real, _n, ...args) => (await held.gate(), real(...args)))})
      const run = 'run-stop'
      const rows = async () => metricValue(local.metrics.bufferRows)
      // Four requests in flight (their inserts held), and a fifth on a connection the test keeps.
      const inFlight = [0, 1, 2, 3].map((id) => post(local.url, JSON.stringify(batch(run, id * 100, 100))))
      await until(async () => (await rows()) === 400)
      const kept = net.connect(local.port, '127.0.0.1')
      let keptReceived = ''
      kept.on('data', (chunk) => (keptReceived += chunk))
      const keptClosed = new Promise((resolve) => kept.once('close', resolve))
      kept.write(rawRequest(JSON.stringify(batch(run, 400, 100))))
      await until(async () => (await rows()) === 500)

      const stopped = local.stop()
      // New connections are refused...
      const fresh = await new Promise<string>((resolve) => {
        const socket = net.connect(local.port, '127.0.0.1')
        socket.once('connect', () => (socket.destroy(), resolve('connected')))
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      })
      expect(fresh, 'a new connection after stop()').to.equal('ECONNREFUSED')
      // ...and a request that reaches serve after stop() on a connection still open, behind one in
      // flight, is refused: the answer in flight closes the connection, leaving it unanswered.
      kept.write(rawRequest(JSON.stringify(batch(run, 500, 100))))
      await until(async () => (await metricValue(local.metrics.rejected, {reason: 'shutting_down'})) === 1)

      held.open()
      const answers = await Promise.all(inFlight)
      expect(answers.map((answer) => [answer.status, answer.json])).to.deep.equal(Array.from({length: 4}, () => [202, {accepted: 100}]))
      await stopped
      await keptClosed
      const answered = keptReceived.split(/(?=HTTP\/1\.1 )/)
      expect(answered, 'one answer on the kept connection, then it closes').to.have.length(1)
      expect(answered[0]).to.match(/^HTTP\/1\.1 202 /)
      expect(answered[0]).to.match(/\r\nconnection: close\r\n/i)
      expect(answered[0]).to.include('{"accepted":100}')
      expect(await count(store, run)).to.equal(500)
      const [{low, high}] = await store.query<{low: number; high: number}>(`SELECT min(seq) AS low, max(seq) AS high FROM ${store.tableRef} WHERE run_id = {run:String}`, {run})
      expect([Number(low), Number(high)]).to.deep.equal([0, 499])
    })
  })
}

after(() => {
  for (const backend of backends) backend.cleanup()
})
