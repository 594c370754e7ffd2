/**
 * The ingest server's own bookkeeping (idempotency, limits, shutdown), with an
 * in-memory Store whose inserts the test can hold or fail. Storage itself is
 * tested against real ClickHouse in test/e2e/serve.test.ts. Every ordering a
 * test needs is waited for as serve reports it (inserts started, requests
 * waiting on a key, bytes being read), never assumed after a sleep.
 */
import {expect} from 'chai'
import net from 'node:net'

import {type IngestServer, startIngestServer} from '../../../src/lib/ingest/index.js'
import {insertGate, MemoryStore, metricValue, until} from './memory-store.js'

const body = (n: number, tag = 'x') => JSON.stringify(Array.from({length: n}, (_, i) => ({app_id: 'a', message: `${tag}${i}`})))

async function post(url: string, text: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/api/logs/batch`, {body: text, headers: {'content-type': 'application/json', ...headers}, method: 'POST'})
  return {json: (await response.json()) as any, status: response.status}
}

describe('ingest server bookkeeping', () => {
  let store: MemoryStore
  let server: IngestServer

  beforeEach(async () => {
    store = new MemoryStore()
    server = await startIngestServer({port: 0, stopGraceMs: 300, store})
  })

  afterEach(async () => {
    store.gate = undefined
    await server.stop()
  })

  it('stores a key once when several retries wait on an attempt that fails', async () => {
    const held = insertGate()
    store.gate = held.gate
    const headers = {'idempotency-key': 'key-1'}
    const first = post(server.url, body(5), headers)
    await store.insertsStarted(1)
    const retries = [post(server.url, body(5), headers), post(server.url, body(5), headers)]
    // Both retries are waiting on the first attempt before it fails.
    await until(async () => (await metricValue(server.metrics.keyWaits)) === 2)
    store.gate = undefined
    held.fail(new Error('insert failed'))
    const [a, b, c] = await Promise.all([first, ...retries])
    expect(a.status).to.equal(503)
    expect([b.status, c.status]).to.deep.equal([202, 202])
    expect(store.rows).to.have.length(5)
    expect(store.inserts, 'the failed insert, then one of the retries').to.deep.equal([5, 5])
    expect([b.json.replayed, c.json.replayed].filter(Boolean)).to.have.length(1)
  })

  it('refuses an Idempotency-Key over 200 characters instead of cutting it', async () => {
    const long = 'k'.repeat(201)
    const reply = await post(server.url, body(2), {'idempotency-key': long})
    expect(reply.status).to.equal(400)
    expect(reply.json.error).to.match(/longer than 200/)
    expect(store.rows).to.have.length(0)
  })

  it('keeps a field named __proto__ in metadata', async () => {
    const reply = await post(server.url, '[{"app_id":"a","message":"m","__proto__":{"x":1},"other":2}]')
    expect(reply.status).to.equal(202)
    expect(store.rows[0].metadata).to.equal('{"__proto__":{"x":1},"other":2}')
  })

  it('refuses a lone surrogate with 400 and does not fail the requests batched with it', async () => {
    const local = await startIngestServer({batch: {insertConcurrency: 1}, port: 0, store})
    try {
      const held = insertGate()
      store.gate = held.gate
      // One insert runs (held): what arrives meanwhile waits for the slot, to go in one insert.
      const blocker = post(local.url, body(1, 'blocker'))
      await store.insertsStarted(1)
      const sent = [post(local.url, body(3, 'a')), post(local.url, '[{"app_id":"a","message":"\\ud800"}]'), post(local.url, body(2, 'c'))]
      // All three have been admitted or refused (6 rows of requests in all) while the insert is held:
      // the good ones wait for the same insert the bad one would have joined.
      const admittedRows = async () => (await metricValue(local.metrics.bufferRows)) - 1
      const refused = async () => metricValue(local.metrics.rejected, {reason: 'invalid'})
      await until(async () => (await admittedRows()) + (await refused()) === 3 + 1 + 2)
      store.gate = undefined
      held.open()
      const [a, bad, c] = await Promise.all(sent)
      expect((await blocker).status).to.equal(202)
      expect([a.status, bad.status, c.status]).to.deep.equal([202, 400, 202])
      expect(bad.json.details[0]).to.include({field: 'message', index: 0})
      expect(store.inserts, 'the held insert, then one insert with both good requests').to.deep.equal([1, 5])
      expect(store.rows.map((row) => row.message)).to.have.members(['blocker0', 'a0', 'a1', 'a2', 'c0', 'c1'])
    } finally {
      await local.stop()
    }
  })

  it('answers 400, not 500, for a report name that is not valid percent-encoding', async () => {
    const local = await startIngestServer({port: 0, reports: async () => ({body: {}, status: 200}), store})
    const response = await fetch(`${local.url}/api/reports/%E0`)
    expect(response.status).to.equal(400)
    await local.stop()
  })

  it('answers 503 when the bodies being received exceed their budget', async () => {
    const local = await startIngestServer({maxBodyBytes: 1000, maxReadingBytes: 1000, port: 0, store})
    const {port} = new URL(local.url)
    // One upload that declares 900 bytes and stalls holds most of the budget...
    const socket = net.connect(Number(port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write('POST /api/logs/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n[')
    await until(async () => (await metricValue(local.metrics.readingBytes)) === 900)
    // ...so another that declares 500 is refused at once.
    const reply = await post(local.url, body(20))
    expect(reply.status).to.equal(503)
    expect(reply.json.error).to.match(/too many request bodies/)
    socket.destroy()
    await local.stop()
  })

  it('stop() cuts off an upload that stalls past the grace period instead of waiting forever', async () => {
    const {port} = new URL(server.url)
    const socket = net.connect(Number(port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    let received = ''
    socket.on('data', (chunk) => (received += chunk))
    socket.write('POST /api/logs/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[')
    await until(async () => (await metricValue(server.metrics.readingBytes)) === 100)
    const closed = new Promise((resolve) => socket.once('close', resolve))
    // Resolves only if serve cuts the upload (it never completes): the grace period is 300 ms here.
    await server.stop()
    await closed
    expect(received, 'an upload cut off holds no rows and gets no answer').to.equal('')
    expect(await metricValue(server.metrics.readingBytes)).to.equal(0)
    expect(store.rows).to.have.length(0)
  })
})
