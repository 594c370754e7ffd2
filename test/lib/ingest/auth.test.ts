import {expect} from 'chai'

import {IdempotencyCache} from '../../../src/lib/ingest/idempotency.js'
import {tokenMatches} from '../../../src/lib/ingest/access.js'

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
})
