import {expect} from 'chai'

import {checkAccess, isLoopbackAddress, startIngestServer, tokenMatches} from '../../../src/lib/ingest/index.js'
import {IdempotencyCache} from '../../../src/lib/ingest/idempotency.js'
import {LogbenchError} from '../../../src/lib/errors.js'
import {MemoryStore} from './memory-store.js'

async function usageErrorOf(promise: Promise<unknown>): Promise<LogbenchError> {
  try {
    await promise
  } catch (error) {
    expect(error).to.be.instanceOf(LogbenchError)
    expect((error as LogbenchError).kind).to.equal('usage')
    return error as LogbenchError
  }

  return expect.fail('should have been refused with a usage error')
}

describe('ingest auth and idempotency', () => {
  it('accepts only the exact bearer token', () => {
    expect(tokenMatches('Bearer s3cret', 's3cret')).to.equal(true)
    expect(tokenMatches('bearer s3cret', 's3cret')).to.equal(true)
    expect(tokenMatches('Bearer s3cre', 's3cret')).to.equal(false)
    expect(tokenMatches('Bearer s3cretx', 's3cret')).to.equal(false)
    expect(tokenMatches('s3cret', 's3cret')).to.equal(false)
    expect(tokenMatches(undefined, 's3cret')).to.equal(false)
    expect(tokenMatches('Bearer ', '')).to.equal(false)
  })

  it('remembers committed keys, forgets failed ones, and stays bounded', async () => {
    const cache = new IdempotencyCache(2)
    cache.track('a', Promise.resolve(5))
    const failed = Promise.reject(new Error('x'))
    cache.track('b', failed)
    await failed.catch(() => {})
    await new Promise((resolve) => setImmediate(resolve))
    expect(cache.get('a')).to.deep.equal({accepted: 5, state: 'committed'})
    expect(cache.get('b')).to.equal(undefined)
    cache.track('c', Promise.resolve(1))
    cache.track('d', Promise.resolve(1))
    expect(cache.size).to.equal(2)
    expect(cache.get('a')).to.equal(undefined)
  })

  describe('no open door by default', () => {
    it('tells loopback addresses from the others', () => {
      for (const address of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address), address).to.equal(true)
      for (const address of ['0.0.0.0', '::', '10.1.2.3', '192.168.0.1', '::2', '1::1', 'fe80::1', '::ffff:10.0.0.1', 'localhost']) expect(isLoopbackAddress(address), address).to.equal(false)
    })

    it('refuses another address without a token, unless told it is meant; loopback and a token are fine', async () => {
      const refused = await usageErrorOf(checkAccess({host: '0.0.0.0'}))
      expect(refused.message).to.equal('serve would listen on 0.0.0.0 (every interface) without a token: anyone who can reach it could write logs and read the reports')
      expect(refused.suggestion).to.match(/--token or LOGBENCH_TOKEN.*or pass --no-auth/)
      expect((await usageErrorOf(checkAccess({host: '192.0.2.1'}))).message).to.include('on 192.0.2.1 without a token')
      expect(await checkAccess({host: '0.0.0.0', open: true})).to.deep.equal({exposed: true})
      expect(await checkAccess({host: '0.0.0.0', token: 't'})).to.deep.equal({exposed: false})
      for (const host of ['127.0.0.1', '::1', 'localhost']) expect(await checkAccess({host}), host).to.deep.equal({exposed: false})
    })

    it('startIngestServer itself refuses to listen on every interface without a token or openAccess', async () => {
      await usageErrorOf(startIngestServer({host: '0.0.0.0', port: 0, store: new MemoryStore()}))
      const open = await startIngestServer({host: '0.0.0.0', openAccess: true, port: 0, store: new MemoryStore()})
      expect(open.host).to.equal('0.0.0.0')
      await open.stop()
    })
  })

  describe('the token guards every route but /health', () => {
    const calls: string[] = []
    let url: string
    let stop: () => Promise<void>

    before(async () => {
      const server = await startIngestServer({
        port: 0,
        reports: async (name) => {
          calls.push(`report ${name}`)
          return {body: {name}, status: 200}
        },
        store: new MemoryStore(),
        token: 'tok',
        verify: async (req) => {
          calls.push('verify')
          for await (const _ of req);
          return {body: {stored: 0}, status: 200}
        },
      })
      url = server.url
      stop = () => server.stop()
    })

    after(() => stop())

    const routes: [string, string, string?][] = [
      ['GET', '/api/reports/total'],
      ['POST', '/api/verify', '{}'],
      ['GET', '/metrics'],
      ['POST', '/api/logs', '{"app_id":"a","message":"m"}'],
    ]

    it('answers 401 without the token and never reaches the read-only routes', async () => {
      for (const [method, route, body] of routes) {
        for (const authorization of [undefined, 'Bearer wrong']) {
          const response = await fetch(`${url}${route}`, {body, headers: {'content-type': 'application/json', ...(authorization ? {authorization} : {})}, method})
          expect(response.status, `${method} ${route} ${authorization ?? ''}`).to.equal(401)
          expect(response.headers.get('www-authenticate')).to.equal('Bearer')
          expect(((await response.json()) as {error: string}).error).to.equal('missing or wrong bearer token')
        }
      }

      expect(calls).to.deep.equal([])
    })

    it('serves them with the token', async () => {
      for (const [method, route, body] of routes) {
        const response = await fetch(`${url}${route}`, {body, headers: {authorization: 'Bearer tok', 'content-type': 'application/json'}, method})
        expect(response.status, `${method} ${route}`).to.be.oneOf([200, 202])
        await response.arrayBuffer()
      }

      expect(calls).to.deep.equal(['report total', 'verify'])
    })

    it('keeps /health open for probes, with its details only for the token', async () => {
      const open = await fetch(`${url}/health`)
      expect(open.status).to.equal(200)
      expect(await open.json()).to.deep.equal({service: 'logbench serve', status: 'ok'})
      const full = (await (await fetch(`${url}/health`, {headers: {authorization: 'Bearer tok'}})).json()) as Record<string, unknown>
      expect(full).to.include.keys('service', 'status', 'store', 'buffer', 'memory')
    })
  })
})
