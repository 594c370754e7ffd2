import {expect} from 'chai'

import {decodeHistogram, encodeHistogram, mergeHistograms, newHistogram, recordMs} from '../../../src/lib/load/measure/histogram.js'
import {blockLengthFor, bootstrapChanges, bootstrapPValue, drawWeights, percentileInterval} from '../../../src/lib/history/stats/bootstrap.js'
import {effectiveSampleSize, lag1Autocorrelation, quantile, relativeSpreadPercent} from '../../../src/lib/history/stats/describe.js'
import {countAtPercentile, HistogramSet} from '../../../src/lib/history/stats/histogram-set.js'
import {exactUCounts, mannWhitneyU, normalUpperTail} from '../../../src/lib/history/stats/mann-whitney.js'
import {seededRandom} from '../../../src/lib/history/stats/random.js'

const binomial = (n: number, k: number) => {
  let r = 1n
  for (let i = 1n; i <= BigInt(k); i++) r = (r * (BigInt(n) - BigInt(k) + i)) / i
  return r
}

describe('history statistics', () => {
  describe('seeded random', () => {
    it('repeats for a seed, differs between seeds, and is uniform enough', () => {
      const a = seededRandom(42)
      const b = seededRandom(42)
      const c = seededRandom(43)
      const xs = Array.from({length: 10_000}, () => a())
      expect(Array.from({length: 10_000}, () => b())).to.deep.equal(xs)
      expect(Array.from({length: 5}, () => c())).to.not.deep.equal(xs.slice(0, 5))
      for (const x of xs) expect(x).to.be.at.least(0).and.below(1)
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length
      expect(mean).to.be.closeTo(0.5, 0.01)
      // Ten equal bins, each within 10% of its share.
      const bins = Array.from({length: 10}, () => 0)
      for (const x of xs) bins[Math.floor(x * 10)]++
      for (const n of bins) expect(n).to.be.within(900, 1100)
    })
  })

  describe('Mann–Whitney U', () => {
    // Reference values from scipy.stats.mannwhitneyu (two-sided, continuity correction, tie-corrected variance).
    it('gives the exact p-value without ties (scipy method="exact")', () => {
      const a = mannWhitneyU([1.1, 2.3, 3.7, 4.2], [5.5, 6.1, 7.3, 8.8])
      expect(a.method).to.equal('exact')
      expect(a.u).to.equal(0)
      expect(a.pValue).to.be.closeTo(0.028_571_428_571_428_57, 1e-12)
      const b = mannWhitneyU([10.5, 12.1, 9.8, 11.7, 13.2], [12.9, 14.1, 13.5, 11.9, 15, 14.4])
      expect(b.u).to.equal(3)
      expect(b.pValue).to.be.closeTo(0.030_303_030_303_030_304, 1e-12)
    })

    it('uses the tie-corrected normal approximation with ties (scipy method="asymptotic")', () => {
      const ties = mannWhitneyU([1, 2, 2, 3, 4, 4, 4, 5], [3, 4, 5, 5, 6, 6, 7, 8, 8])
      expect(ties.method).to.equal('normal')
      expect(ties.u).to.equal(8)
      expect(ties.pValue).to.be.closeTo(0.007_453_631_850_691_216, 1e-7)
      // The data set of ClickHouse's own mannWhitneyUTest test; scipy and ClickHouse agree on 0.5426959774289482.
      const left = [310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295]
      const right = [116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261]
      const ch = mannWhitneyU(left, right)
      expect(ch.u).to.equal(223)
      expect(ch.pValue).to.be.closeTo(0.542_695_977_428_948_2, 1e-7)
    })

    it('takes the approximation for large samples without ties', () => {
      const x = Array.from({length: 60}, (_, i) => ((i * 37) % 101) + 0.5)
      const y = Array.from({length: 50}, (_, i) => ((i * 53) % 97) + 3.25)
      const result = mannWhitneyU(x, y)
      expect(result.method).to.equal('normal')
      expect(result.u).to.equal(1554)
      expect(result.pValue).to.be.closeTo(0.748_088_672_933_852_7, 1e-7)
    })

    it('counts every arrangement of U exactly, symmetric about n·m/2', () => {
      for (const [n, m] of [[1, 1], [3, 4], [5, 5], [8, 11], [50, 50]]) {
        const counts = exactUCounts(n, m)
        expect(counts.length).to.equal(n * m + 1)
        expect(counts.reduce((s, c) => s + c, 0n)).to.equal(binomial(n + m, n))
        for (let u = 0; u <= n * m; u++) expect(counts[u]).to.equal(counts[n * m - u])
      }

      expect(exactUCounts(2, 2)).to.deep.equal([1n, 1n, 2n, 1n, 1n])
    })

    it('is 1 when every value is tied, and widens with a variance inflation', () => {
      expect(mannWhitneyU([5, 5, 5], [5, 5, 5, 5]).pValue).to.equal(1)
      const x = Array.from({length: 30}, (_, i) => i)
      const y = Array.from({length: 30}, (_, i) => i + 8.5)
      const plain = mannWhitneyU(x, y)
      const inflated = mannWhitneyU(x, y, {varianceInflation: 3})
      expect(inflated.method).to.equal('normal')
      expect(inflated.pValue).to.be.greaterThan(plain.pValue)
    })

    it('has a standard normal tail', () => {
      expect(normalUpperTail(0)).to.be.closeTo(0.5, 1e-7)
      expect(normalUpperTail(1.959_963_985)).to.be.closeTo(0.025, 1e-7)
      expect(normalUpperTail(-1.644_853_627)).to.be.closeTo(0.95, 1e-7)
      expect(normalUpperTail(5)).to.be.closeTo(2.866_515_7e-7, 1e-12)
    })
  })

  describe('descriptive statistics', () => {
    it('quantiles as numpy computes them (linear, type 7)', () => {
      const v = [3.1, 7.4, 1.2, 9.9, 5.5, 2.2, 8.8]
      const numpy: [number, number][] = [[0, 1.2], [0.1, 1.8], [0.25, 2.65], [0.5, 5.5], [0.75, 8.1], [0.9, 9.24], [1, 9.9]]
      for (const [q, value] of numpy) expect(quantile(v, q)).to.be.closeTo(value, 1e-12)
    })

    it('the spread is half the interquartile range over the median, in percent', () => {
      expect(relativeSpreadPercent([100, 100, 100])).to.equal(0)
      // Quartiles 95 and 105: the middle half lies within ±5% of the median.
      expect(relativeSpreadPercent([90, 100, 110])).to.be.closeTo(5, 1e-12)
      expect(relativeSpreadPercent([1])).to.equal(null)
      expect(relativeSpreadPercent([0, 0, 1])).to.equal(null)
    })

    it('an autocorrelated series is worth fewer independent samples', () => {
      const random = seededRandom(7)
      const independent = Array.from({length: 400}, () => random())
      let level = 0
      const correlated = Array.from({length: 400}, () => (level = 0.8 * level + random() - 0.5))
      expect(Math.abs(lag1Autocorrelation(independent))).to.be.below(0.15)
      expect(lag1Autocorrelation(correlated)).to.be.within(0.7, 0.9)
      expect(effectiveSampleSize(independent)).to.be.within(300, 400)
      expect(effectiveSampleSize(correlated)).to.be.within(20, 70)
      expect(blockLengthFor(400, effectiveSampleSize(correlated))).to.be.within(5, 20)
      expect(blockLengthFor(400, 400)).to.equal(1)
    })
  })

  describe('bootstrap', () => {
    it('draws n items in circular blocks of consecutive ones', () => {
      const random = seededRandom(1)
      const weights = new Float64Array(10)
      for (let r = 0; r < 200; r++) {
        drawWeights(weights, random, 1)
        expect(weights.reduce((s, w) => s + w, 0)).to.equal(10)
      }

      // Blocks of 5 in 10 items: two blocks, each 5 consecutive (circular) items.
      for (let r = 0; r < 200; r++) {
        drawWeights(weights, random, 5)
        expect(weights.reduce((s, w) => s + w, 0)).to.equal(10)
        const drawn = [...weights.keys()].filter((i) => weights[i] > 0)
        expect(drawn.length).to.be.within(5, 10)
      }
    })

    it('gives a p-value that agrees with the percentile interval, and is never 0', () => {
      expect(bootstrapPValue(Array.from({length: 999}, () => 10))).to.equal(0.002)
      expect(bootstrapPValue([0, 0, 0])).to.equal(1)
      expect(bootstrapPValue([])).to.equal(null)
      const random = seededRandom(3)
      const changes = Array.from({length: 2000}, () => (random() - 0.5) * 10 + 1)
      const p = bootstrapPValue(changes)!
      const ci = percentileInterval(changes)!
      expect(ci[0]).to.be.below(0)
      expect(ci[1]).to.be.above(0)
      expect(p).to.be.above(0.05)
    })

    it('resamples both sides independently; the same seed gives the same changes', () => {
      const base = Array.from({length: 20}, (_, i) => 100 + (i % 5))
      const contender = Array.from({length: 20}, (_, i) => 120 + (i % 5))
      const mean = (values: number[]) => (w: Float64Array) => {
        let s = 0
        let n = 0
        for (let i = 0; i < values.length; i++) {
          s += values[i] * w[i]
          n += w[i]
        }

        return [s / n]
      }

      const run = (seed: number) =>
        bootstrapChanges({blockLength: 1, n: 20, statistics: mean(base)}, {blockLength: 1, n: 20, statistics: mean(contender)}, {random: seededRandom(seed), replicates: 500})[0]
      const changes = run(9)
      expect(changes).to.deep.equal(run(9))
      expect(changes.length).to.equal(500)
      const [low, high] = percentileInterval(changes)!
      expect(low).to.be.within(17, 20)
      expect(high).to.be.within(20, 23)
      expect(bootstrapPValue(changes)).to.be.below(0.01)
    })
  })

  describe('histogram set', () => {
    it('reads percentiles of weighted merges exactly as HDR does on the merged histograms', () => {
      const random = seededRandom(11)
      const histograms = Array.from({length: 12}, (_, k) => {
        const h = newHistogram()
        const n = 1 + Math.floor(random() * 300)
        for (let i = 0; i < n; i++) recordMs(h, 5 + k + random() ** 3 * 400)
        return h
      })
      const encoded = [...histograms.map((h) => encodeHistogram(h)), '']
      const set = HistogramSet.fromEncoded(encoded)
      expect(set.size).to.equal(13)
      expect(set.countOf(12)).to.equal(0)
      const ps = [50, 90, 99, 99.9]
      for (let trial = 0; trial < 20; trial++) {
        const weights = new Float64Array(13)
        drawWeights(weights, random, 1)
        const merged = mergeHistograms(
          histograms.flatMap((h, i) => Array.from({length: weights[i]}, () => decodeHistogram(encodeHistogram(h)))),
        )
        const expected = merged.totalCount === 0 ? ps.map(() => null) : ps.map((p) => Math.round(merged.getValueAtPercentile(p)) / 1000)
        expect(set.percentiles(weights, ps), `trial ${trial}`).to.deep.equal(expected)
      }

      expect(set.percentilesOf(12, ps)).to.deep.equal([null, null, null, null])
    })

    it('reads the rank HDR reads', () => {
      expect(countAtPercentile(50, 10)).to.equal(5)
      expect(countAtPercentile(99, 100)).to.equal(99)
      expect(countAtPercentile(99.9, 100)).to.equal(100)
      expect(countAtPercentile(0, 100)).to.equal(1)
    })
  })
})
