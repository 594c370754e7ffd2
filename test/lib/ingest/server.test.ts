/**
 * The ingest server's own bookkeeping (idempotency, limits, shutdown), with an
 * in-memory Store whose inserts the test can hold or fail. Storage itself is
 * tested against real ClickHouse in test/e2e/serve.test.ts.
 */
import {expect} from 'chai'
import net from 'node:net'

import {type IngestServer, startIngestServer} from '../../../src/lib/ingest/index.js'
import {capabilitiesFor, parseVersion, type Store} from '../../../src/lib/store/index.js'

class MemoryStore implements Store {
  readonly info = {
    capabilities: capabilitiesFor(parseVersion('18.16.1')),
    database: 'logs_db',
    kind: 'server' as const,
    location: 'memory',
    table: 'logs',
    version: parseVersion('18.16.1'),
  }

  readonly tableRef = '`logs_db`.`logs`'
  rows: Record<string, unknown>[] = []
  /** Each insert waits for this; the test resolves or rejects it. */
  gate: (() => Promise<void>) | undefined

  async close() {}
  async command() {}
  async ensureSchema() {}
  async insert(body: string | Uint8Array | readonly Uint8Array[]) {
    await this.gate?.()
    const text = Buffer.from(body as Uint8Array).toString('utf8')
    for (const line of text.split('\n')) if (line) this.rows.push(JSON.parse(line))
  }

  async ping() {
    return true
  }

  async query<T>(): Promise<T[]> {
    return []
  }

  async schemaExists() {
    return true
  }
}

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
    let fail!: (error: Error) => void
    store.gate = () => new Promise<void>((_resolve, reject) => (fail = reject))
    const headers = {'idempotency-key': 'key-1'}
    const first = post(server.url, body(5), headers)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const retries = [post(server.url, body(5), headers), post(server.url, body(5), headers)]
    await new Promise((resolve) => setTimeout(resolve, 50))
    store.gate = undefined
    fail(new Error('insert failed'))
    const [a, b, c] = await Promise.all([first, ...retries])
    expect(a.status).to.equal(503)
    expect([b.status, c.status]).to.deep.equal([202, 202])
    expect(store.rows).to.have.length(5)
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
    const bad = await post(server.url, '[{"app_id":"a","message":"\\ud800"}]')
    expect(bad.status).to.equal(400)
    expect(bad.json.details[0]).to.include({field: 'message', index: 0})
    expect((await post(server.url, body(3))).status).to.equal(202)
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
    await new Promise((resolve) => setTimeout(resolve, 100))
    // ...so another that declares 500 is refused at once.
    const reply = await post(local.url, body(20))
    expect(reply.status).to.equal(503)
    socket.destroy()
    await local.stop()
  })

  it('stop() cuts off an upload that stalls past the grace period instead of waiting forever', async () => {
    const {port} = new URL(server.url)
    const socket = net.connect(Number(port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write('POST /api/logs/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const closed = new Promise((resolve) => socket.once('close', resolve))
    const started = Date.now()
    await server.stop()
    await closed
    expect(Date.now() - started).to.be.lessThan(5000)
    expect(store.rows).to.have.length(0)
  })
})
