import {expect} from 'chai'

import {bucketCount, chooseBucketMs, summarizeRates} from '../../../src/lib/analyze/index.js'
import {type BucketRow} from '../../../src/lib/analyze/rates.js'

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0)

describe('analyze: rate buckets', () => {
  it('chooses 1 s buckets for runs up to a minute, and wider ones to keep about 60 buckets', () => {
    expect(chooseBucketMs(T0, T0)).to.equal(1000)
    expect(chooseBucketMs(T0, T0 + 59_999)).to.equal(1000)
    expect(chooseBucketMs(T0, T0 + 90_000)).to.equal(2000)
    expect(chooseBucketMs(T0, T0 + 180_000)).to.equal(5000)
    expect(chooseBucketMs(T0, T0 + 30 * 60_000)).to.equal(60_000)
    expect(chooseBucketMs(T0, T0 + 24 * 3_600_000)).to.equal(1_800_000)
    for (const span of [1, 45_000, 600_000, 7_200_000, 86_400_000 * 3]) {
      expect(bucketCount(T0 + 123, T0 + 123 + span, chooseBucketMs(T0 + 123, T0 + 123 + span))).to.be.at.most(60)
    }
  })

  it('gives each bucket its own per-second rate, fills empty buckets, and finds the peak', () => {
    const rows: BucketRow[] = [
      {bucket_ms: T0, first_ms: T0 + 400, last_ms: T0 + 9000, logs: 100},
      {bucket_ms: T0 + 20_000, first_ms: T0 + 20_000, last_ms: T0 + 29_999, logs: 5000},
      {bucket_ms: T0 + 30_000, first_ms: T0 + 30_000, last_ms: T0 + 30_499, logs: 50},
    ]
    const report = summarizeRates(rows, 10_000, 1, 'flag')
    expect(report.buckets.map((bucket) => [bucket.start, bucket.logs, bucket.logsPerSecond, bucket.partial])).to.deep.equal([
      ['2024-05-01T12:00:00.000Z', 100, 100 / 9.6, true],
      ['2024-05-01T12:00:10.000Z', 0, 0, false],
      ['2024-05-01T12:00:20.000Z', 5000, 500, false],
      ['2024-05-01T12:00:30.000Z', 50, 100, true],
    ])
    expect(report.logs).to.equal(5150)
    expect(report.peakPerSecond).to.equal(500)
    expect(report.peakAt).to.equal('2024-05-01T12:00:20.000Z')
    // The active period is the non-empty buckets, the edge ones for the part the data covers.
    expect(report.activeMs).to.equal(9600 + 10_000 + 500)
    expect(report.meanPerSecond).to.be.closeTo(5150 / 20.1, 1e-9)
    expect(report.firstCreatedAt).to.equal('2024-05-01T12:00:00.400Z')
    expect(report.lastCreatedAt).to.equal('2024-05-01T12:00:30.499Z')
  })

  it('never puts the peak below the mean: a run inside one bucket, and idle time between runs', () => {
    const inside = summarizeRates([{bucket_ms: T0, first_ms: T0 + 100, last_ms: T0 + 731, logs: 20_000}], 1000, 1, 'auto')
    expect(inside.peakPerSecond).to.be.closeTo(inside.meanPerSecond!, 1e-9)
    expect(inside.meanPerSecond).to.be.closeTo(20_000 / 0.632, 1e-6)
    const day = 86_400_000
    const apart = summarizeRates(
      [
        {bucket_ms: T0, first_ms: T0, last_ms: T0 + 59_999, logs: 60_000},
        {bucket_ms: T0 + day, first_ms: T0 + day, last_ms: T0 + day + 59_999, logs: 60_000},
      ],
      60_000,
      1,
      'flag',
    )
    expect(apart.meanPerSecond).to.be.closeTo(1000, 1e-9)
    expect(apart.peakPerSecond).to.be.closeTo(1000, 1e-9)
  })

  it('counts a second-resolution time as the whole second it stands for', () => {
    const report = summarizeRates([{bucket_ms: T0, first_ms: T0, last_ms: T0, logs: 700}], 1000, 1000, 'auto')
    expect(report.activeMs).to.equal(1000)
    expect(report.meanPerSecond).to.equal(700)
    expect(report.buckets).to.have.length(1)
    expect(report.buckets[0].partial).to.equal(false)
  })

  it('reports nothing, not zeros, when there are no logs', () => {
    const report = summarizeRates([], 1000, 1, 'auto')
    expect(report).to.include({activeMs: 0, logs: 0, meanPerSecond: null, peakAt: null, peakPerSecond: null})
    expect(report.buckets).to.deep.equal([])
  })
})
