/**
 * serve, black-box over HTTP, on both back ends: the acceptance checks of the
 * ingest endpoint. Storage is real (ClickHouse 18.16 and the embedded engine).
 */
import {expect} from 'chai'
import fc from 'fast-check'

import {type IngestServer, startIngestServer} from '../../src/lib/ingest/index.js'
import {epochMsExpr, type Store} from '../../src/lib/store/index.js'
import {backends, storeOrSkip} from '../helpers.js'
import {brokenBody, canonicalMetadata, entriesOf, expectedRow, randomBody, sortedRows, validBody} from '../lib/ingest/body-model.js'

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

    it('stores 100 POSTs of 1000 logs sent 8 at a time, exactly, every field as sent', async () => {
      const run = 'run-hundred'
      const statuses: number[] = []
      let next = 0
      const worker = async () => {
        while (next < 100) {
          const i = next++
          const response = await post(server.url, JSON.stringify(batch(run, i * 1000, 1000)), auth)
          statuses.push(response.status)
          expect(response.json).to.deep.equal({accepted: 1000})
        }
      }

      await Promise.all(Array.from({length: 8}, worker))
      expect(statuses.filter((status) => status === 202)).to.have.length(100)
      expect(await count(store, run)).to.equal(100_000)
      expect(server.stats().inserts).to.be.lessThan(100)

      const caps = store.info.capabilities
      const rows = await store.query<Record<string, any>>(
        `SELECT seq, app_id, level, message, source, metadata, ${epochMsExpr('timestamp', caps)} AS ts FROM ${store.tableRef}
         WHERE run_id = {run:String} AND seq IN (0, 1, 4, 31337, 99999) ORDER BY seq`,
        {run},
      )
      expect(rows.map((row) => row.seq)).to.deep.equal([0, 1, 4, 31_337, 99_999])
      const sent = new Map(batch(run, 0, 100_000).map((log) => [(log.metadata as {seq: number}).seq, log]))
      for (const row of rows) {
        const log = sent.get(row.seq)!
        expect(row.app_id).to.equal(log.app_id)
        expect(row.level).to.equal(log.level)
        expect(row.message).to.equal(log.message)
        expect(row.source).to.equal(log.source)
        expect(JSON.parse(row.metadata)).to.deep.equal(log.metadata)
        const precision = caps.dateTime64 ? 1 : 1000
        expect(row.ts).to.equal(Math.floor((log.timestamp as number) / precision) * precision)
      }

      const [{dupes}] = await store.query<{dupes: number}>(`SELECT count() - uniqExact(seq) AS dupes FROM ${store.tableRef} WHERE run_id = {run:String}`, {run})
      expect(dupes).to.equal(0)
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
      const health = await fetch(`${server.url}/health`)
      expect(health.status).to.equal(200)
      const body = (await health.json()) as any
      expect(body.store).to.include({kind: backend.name, reachable: true})
      expect(body.buffer).to.include.keys('rows', 'bytes', 'maxRows', 'maxBytes')
      const metrics = await (await fetch(`${server.url}/metrics`)).text()
      expect(metrics).to.match(/^logbench_ingest_accepted_total \d+/m)
      expect(metrics).to.match(/logbench_ingest_rejected_requests_total\{reason="invalid"\} [1-9]/)
      expect(metrics).to.include('logbench_ingest_insert_duration_seconds_bucket')
      expect(metrics).to.include('logbench_ingest_buffer_fill_ratio')
    })

    it('on stop, answers and stores every request in flight, then refuses new ones', async () => {
      const local = await startIngestServer({port: 0, store})
      const run = 'run-stop'
      const acked: number[] = []
      let stopRequested = false
      const client = async (id: number) => {
        for (let i = 0; !stopRequested || i < 1; i++) {
          try {
            const response = await post(local.url, JSON.stringify(batch(run, (id * 1000 + i) * 100, 100)))
            if (response.status === 202) acked.push(response.json.accepted)
            else expect(response.status).to.equal(503)
          } catch {
            return // connection closed by the stopping server: no answer, nothing counted
          }
        }
      }

      const clients = [0, 1, 2, 3].map((id) => client(id))
      await new Promise((resolve) => setTimeout(resolve, 400))
      stopRequested = true
      await local.stop()
      await Promise.all(clients)
      const sum = acked.reduce((a, b) => a + b, 0)
      expect(sum).to.be.greaterThan(0)
      expect(await count(store, run)).to.equal(sum)
    })
  })
}

after(() => {
  for (const backend of backends) backend.cleanup()
})
