/** serve's Idempotency-Key cache: what it remembers, for how many keys, and what it forgets first. */
import {expect} from 'chai'

import {IdempotencyCache} from '../../../src/lib/ingest/idempotency.js'

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('ingest/idempotency: the key cache', () => {
  it('holds a key while its attempt is in flight, then its accepted count once committed', async () => {
    const cache = new IdempotencyCache(10)
    let commit!: (n: number) => void
    const done = new Promise<number>((resolve) => (commit = resolve))
    cache.track('k', done)
    expect(cache.get('k')).to.deep.equal({done, state: 'pending'})
    commit(42)
    await settle()
    expect(cache.get('k')).to.deep.equal({accepted: 42, state: 'committed'})
  })

  it('forgets a key whose attempt failed, so its retry is stored', async () => {
    const cache = new IdempotencyCache(10)
    const failed = Promise.reject(new Error('insert failed'))
    cache.track('k', failed)
    await settle()
    expect(cache.get('k')).to.equal(undefined)
    expect(cache.size).to.equal(0)
  })

  it('keeps at most its capacity, forgetting the oldest key first', async () => {
    const cache = new IdempotencyCache(3)
    for (const key of ['a', 'b', 'c', 'd']) cache.track(key, Promise.resolve(1))
    await settle()
    expect(cache.size).to.equal(3)
    expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key)?.state)).to.deep.equal([undefined, 'committed', 'committed', 'committed'])
    // A key tracked again (a retry after a failure) counts as the newest.
    cache.track('b', Promise.resolve(2))
    cache.track('e', Promise.resolve(1))
    await settle()
    expect(['b', 'c', 'd', 'e'].map((key) => cache.get(key)?.state)).to.deep.equal(['committed', undefined, 'committed', 'committed'])
  })

  it('holds the 100,000 most recent keys by default, as the README says', async () => {
    const cache = new IdempotencyCache()
    for (let i = 0; i <= 100_000; i++) cache.track(`key-${i}`, Promise.resolve(1))
    await settle()
    expect(cache.size).to.equal(100_000)
    expect(cache.get('key-0')).to.equal(undefined)
    expect(cache.get('key-1')).to.deep.equal({accepted: 1, state: 'committed'})
    expect(cache.get('key-100000')).to.deep.equal({accepted: 1, state: 'committed'})
  })
})
