import {expect} from 'chai'

import {
  ClassCounter,
  decodeHistogram,
  encodeHistogram,
  mergeHistograms,
  newHistogram,
  recordMs,
  summarize,
} from '../../../../src/lib/load/measure/histogram.js'
import {classifyError} from '../../../../src/lib/load/send/error-class.js'
import {networkError} from '../fakes.js'

describe('load/stats', () => {
  it('summarizes latencies in ms with percentiles from the histogram', () => {
    const h = newHistogram()
    for (let ms = 1; ms <= 1000; ms++) recordMs(h, ms)
    const s = summarize(h)
    expect(s.count).to.equal(1000)
    expect(s.p50Ms).to.be.closeTo(500, 1)
    expect(s.p90Ms).to.be.closeTo(900, 1)
    expect(s.p99Ms).to.be.closeTo(990, 1)
    expect(s.p999Ms).to.be.closeTo(999, 1)
    expect(s.maxMs).to.be.closeTo(1000, 1)
    expect(s.minMs).to.be.closeTo(1, 0.01)
    expect(s.meanMs).to.be.closeTo(500.5, 0.5)
    expect(summarize(newHistogram())).to.include({count: 0, p99Ms: 0})
  })

  it('keeps sub-millisecond resolution', () => {
    const h = newHistogram()
    recordMs(h, 0.25)
    recordMs(h, 0.0001)
    expect(summarize(h).maxMs).to.be.closeTo(0.25, 0.001)
    expect(summarize(h).minMs).to.equal(0.001)
  })

  it('round-trips through the compressed encoding', () => {
    const h = newHistogram()
    for (let i = 0; i < 5000; i++) recordMs(h, (i % 97) + 0.5)
    const decoded = decodeHistogram(encodeHistogram(h))
    expect(summarize(decoded)).to.deep.equal(summarize(h))
    expect(decodeHistogram(encodeHistogram(newHistogram())).totalCount).to.equal(0)
  })

  it('merges histograms exactly like recording everything in one, unlike averaging percentiles', () => {
    const fast = newHistogram()
    const slow = newHistogram()
    const all = newHistogram()
    for (let i = 0; i < 9900; i++) {
      recordMs(fast, 1)
      recordMs(all, 1)
    }

    for (let i = 0; i < 100; i++) {
      recordMs(slow, 1000)
      recordMs(all, 1000)
    }

    const merged = mergeHistograms([decodeHistogram(encodeHistogram(fast)), decodeHistogram(encodeHistogram(slow))])
    expect(summarize(merged)).to.deep.equal(summarize(all))
    // The average of the two p99s would be ~500 ms; the true p99 of the whole is 1 ms.
    expect(summarize(merged).p99Ms).to.be.closeTo(1, 0.01)
    expect(summarize(merged).p999Ms).to.be.closeTo(1000, 1)
  })

  it('classifies errors: timeout, reset, refused, dns, HTTP status', () => {
    expect(classifyError(networkError('ECONNREFUSED'))).to.equal('refused')
    expect(classifyError(networkError('ECONNRESET'))).to.equal('reset')
    expect(classifyError(networkError('UND_ERR_SOCKET'))).to.equal('reset')
    expect(classifyError(networkError('UND_ERR_HEADERS_TIMEOUT'))).to.equal('timeout')
    expect(classifyError(networkError('ETIMEDOUT'))).to.equal('timeout')
    expect(classifyError(networkError('ENOTFOUND'))).to.equal('dns')
    expect(classifyError({statusCode: 503})).to.equal('http_503')
    expect(classifyError(new Error('x', {cause: networkError('ECONNREFUSED')}))).to.equal('refused')
    expect(classifyError(new Error('mystery'))).to.equal('other')
  })

  it('counts by class and sums records', () => {
    const c = new ClassCounter()
    c.add('http_503')
    c.add('timeout', 2)
    c.add('http_503')
    expect(c.total).to.equal(4)
    expect(c.toJSON()).to.deep.equal({http_503: 2, timeout: 2})
    expect(ClassCounter.sum([{a: 1}, {a: 2, b: 3}])).to.deep.equal({a: 3, b: 3})
  })
})
