/**
 * The lingering close, seen from a raw connection: an answer sent before the
 * body was read (413, 401, 415, 503) goes out with Connection: close, then
 * serve reads and discards the rest of the body within its bounds, and closes.
 * Bounds are checked through what serve observed (its metrics), not by the
 * clock. What undici, fetch and curl make of it, against a serve process, is
 * in test/e2e/serve-refusals.test.ts.
 */
import {expect} from 'chai'
import net from 'node:net'
import {request} from 'undici'

import {type IngestServer, type IngestServerOptions, startIngestServer} from '../../../src/lib/ingest/index.js'
import {MemoryStore, metricValue, until} from './memory-store.js'

const MB = 1_000_000

/** A raw connection: what it received, and whether serve closed it (the test never ends it). */
async function connect(server: IngestServer) {
  const socket = net.connect(server.port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  let received = ''
  socket.on('data', (chunk) => (received += chunk))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return {closed, received: () => received, socket}
}

const head = (length: number, extra = '') => `POST /api/logs/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`

describe('refusals a client can read (lingering close)', () => {
  const servers: IngestServer[] = []
  let store: MemoryStore

  async function serve(options: Partial<IngestServerOptions> = {}): Promise<IngestServer> {
    const server = await startIngestServer({port: 0, stopGraceMs: 100, store, ...options})
    servers.push(server)
    return server
  }

  beforeEach(() => {
    store = new MemoryStore()
  })

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()))
  })

  it('keeps the connection of an answer sent after the whole body was read', async () => {
    const server = await serve()
    const response = await request(`${server.url}/api/logs/batch`, {body: JSON.stringify([{app_id: 'a', message: 'm'}]), headers: {'content-type': 'application/json'}, method: 'POST'})
    expect(response.statusCode).to.equal(202)
    expect(response.headers.connection).to.not.equal('close')
    await response.body.text()
    const refused = await request(`${server.url}/api/logs/batch`, {body: '[{"app_id":"a"}]', headers: {'content-type': 'application/json'}, method: 'POST'})
    expect(refused.statusCode, 'a 400 comes after the body was read').to.equal(400)
    expect(refused.headers.connection).to.not.equal('close')
    await refused.body.text()
  })

  it('drains a refused body the client sends to its end, then closes the connection cleanly', async () => {
    const server = await serve({maxBodyBytes: 1000})
    const client = await connect(server)
    client.socket.write(head(5000))
    await until(() => client.received().includes('"error"'))
    expect(client.received()).to.match(/^HTTP\/1\.1 413 /)
    expect(client.received()).to.match(/\r\nconnection: close\r\n/i)
    client.socket.write('x'.repeat(5000))
    await client.closed
    expect(await metricValue(server.metrics.lingeringCloses, {end: 'drained'})).to.equal(1)
    expect(await metricValue(server.metrics.discardedBytes)).to.equal(5000)
  })

  it('closes after the same lingering close for 401, 415, a counted 413 and 503 for too many bodies at once', async () => {
    const server = await serve({maxBodyBytes: 1000, maxReadingBytes: 1500, token: 'tok'})
    const auth = 'Authorization: Bearer tok\r\n'
    // An upload that declares 900 bytes and stalls holds most of the budget of bodies read at once.
    const stalled = await connect(server)
    stalled.socket.write(head(900, auth) + '[')
    await until(async () => (await metricValue(server.metrics.readingBytes)) === 900)
    const chunked = (extra: string) => `POST /api/logs/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n${extra}\r\n`
    const cases = [
      {name: '401', request: head(800), rest: 'x'.repeat(800), status: 401},
      {name: '415', request: head(800, auth).replace('application/json', 'text/plain'), rest: 'x'.repeat(800), status: 415},
      {name: 'counted 413', request: chunked(auth) + '4b0\r\n' + 'x'.repeat(1200) + '\r\n', rest: '3e8\r\n' + 'x'.repeat(1000) + '\r\n0\r\n\r\n', status: 413},
      {name: '503', request: head(800, auth), rest: 'x'.repeat(800), status: 503},
    ]
    for (const [i, c] of cases.entries()) {
      const client = await connect(server)
      client.socket.write(c.request)
      await until(() => client.received().includes('"error"'))
      expect(client.received(), c.name).to.match(new RegExp(`^HTTP/1\\.1 ${c.status} `))
      expect(client.received(), c.name).to.match(/\r\nconnection: close\r\n/i)
      client.socket.write(c.rest)
      await client.closed
      expect(await metricValue(server.metrics.lingeringCloses, {end: 'drained'}), c.name).to.equal(i + 1)
    }

    stalled.socket.destroy()
    expect(store.rows).to.have.length(0)
  })

  it('cuts off a client that declares 1 GB and trickles it, at the time bound, holding none of it', async () => {
    const server = await serve({linger: {maxBytes: 2 ** 30, maxMs: 200}})
    const client = await connect(server)
    client.socket.write(head(2 ** 30))
    await until(() => client.received().includes('"error"'))
    expect(client.received()).to.match(/^HTTP\/1\.1 413 /)
    let sent = 0
    let held = 0
    let open = true
    void client.closed.then(() => (open = false))
    // A kilobyte at a time until serve closes the connection (the test never does).
    while (open) {
      client.socket.write('x'.repeat(1024))
      sent += 1024
      held = Math.max(held, await metricValue(server.metrics.readingBytes))
      await new Promise((resolve) => setTimeout(resolve, 10))
    }

    expect(await metricValue(server.metrics.lingeringCloses, {end: 'time_limit'})).to.equal(1)
    expect(await metricValue(server.metrics.discardedBytes)).to.be.at.most(sent)
    expect(held, 'no byte of it was held for reading').to.equal(0)
    expect(await metricValue(server.metrics.lingering)).to.equal(0)
  })

  it('cuts off a client past the byte bound', async () => {
    const maxBytes = 256 * 1024
    const server = await serve({linger: {maxBytes, maxMs: 10 * 60_000}})
    const client = await connect(server)
    client.socket.write(head(2 ** 30))
    await until(() => client.received().includes('"error"'))
    let open = true
    void client.closed.then(() => (open = false))
    const chunk = Buffer.alloc(64 * 1024, 'x')
    // Each write waits for the socket to take it, then lets the event loop run (serve's close included).
    while (open) await new Promise<void>((resolve) => client.socket.write(chunk, () => setImmediate(resolve)))
    expect(await metricValue(server.metrics.lingeringCloses, {end: 'byte_limit'})).to.equal(1)
    const discarded = await metricValue(server.metrics.discardedBytes)
    expect(discarded).to.be.above(maxBytes)
    expect(discarded, 'at most one read past the bound').to.be.at.most(maxBytes + 64 * 1024)
  })

  it('answers "Expect: 100-continue" with the refusal and no 100 Continue, and with 100 Continue a body it reads', async () => {
    const server = await serve()
    const refused = await connect(server)
    refused.socket.write(head(20 * MB, 'Expect: 100-continue\r\n'))
    await until(() => refused.received().includes('"error"'))
    expect(refused.received()).to.match(/^HTTP\/1\.1 413 /)
    refused.socket.destroy()

    const accepted = await connect(server)
    const body = JSON.stringify([{app_id: 'a', message: 'm'}])
    accepted.socket.write(head(body.length, 'Expect: 100-continue\r\n'))
    await until(() => accepted.received().includes('100 Continue'))
    accepted.socket.write(body)
    await until(() => accepted.received().includes('"accepted"'))
    expect(accepted.received()).to.match(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 202 /)
    accepted.socket.destroy()
    expect(store.rows).to.have.length(1)
  })

  it('stop() cuts a connection still discarding a refused body once its grace period is over', async () => {
    const server = await serve({linger: {maxBytes: 2 ** 30, maxMs: 10 * 60_000}, stopGraceMs: 100})
    const client = await connect(server)
    client.socket.write(head(2 ** 30))
    await until(() => client.received().includes('"error"'))
    const trickle = setInterval(() => client.socket.write('x'), 10)
    await server.stop()
    await client.closed
    clearInterval(trickle)
    expect(await metricValue(server.metrics.lingeringCloses, {end: 'shutdown'})).to.equal(1)
  })
})
