import {expect} from 'chai'

import {bounded, coarsen, mergeTimelines, type Timeline, timelineTotals, TimelineRecorder} from '../../../../src/lib/load/measure/timeline.js'
import {sendLoad} from '../../../../src/lib/load/send/sender.js'
import {decodeHistogram} from '../../../../src/lib/load/measure/histogram.js'
import {LogSynth} from '../../../../src/lib/load/generate/synth.js'
import {FakeClock, ok, scriptedTransport} from '../fakes.js'

const T0 = Date.parse('2025-01-01T00:00:00Z')

/** A timeline recorded from a deterministic pseudo-random stream of events. */
function recorded(seed: number, intervalMs: number, startMs: number, events: number): Timeline {
  let wall = startMs
  const recorder = new TimelineRecorder(intervalMs, {wallNow: () => wall})
  let x = seed
  const rnd = () => ((x = (x * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648)
  for (let i = 0; i < events; i++) {
    wall += Math.floor(rnd() * 400)
    const r = rnd()
    if (r < 0.4) recorder.sent(100, 4000 + Math.floor(rnd() * 100))
    else if (r < 0.8) {
      recorder.acked(100)
      recorder.answered(1 + rnd() * 300)
    }
    else if (r < 0.9) recorder.retried(rnd() < 0.5 ? 'http_503' : 'timeout')
    else {
      recorder.failed(100)
      recorder.batchFailed('http_500')
    }
    if (i % 7 === 0) recorder.resources(wall, rnd() * 50, 1_000_000 + Math.floor(rnd() * 1000))
  }

  return recorder.toJSON()
}

function byAt(timeline: Timeline) {
  return new Map(timeline.intervals.map((i) => [i.at, i]))
}

describe('load/measure/timeline', () => {
  it('puts each event in the wall-clock interval it happened in, fills the empty ones, and keeps per-interval percentiles', () => {
    let wall = T0 + 200
    const recorder = new TimelineRecorder(1000, {wallNow: () => wall})
    recorder.sent(10, 500)
    recorder.acked(10)
    recorder.answered(5)
    wall = T0 + 3100
    recorder.acked(20)
    recorder.answered(250)
    recorder.answered(350)
    recorder.retried('http_503')
    const timeline = recorder.toJSON()
    expect(timeline.intervalMs).to.equal(1000)
    expect(timeline.intervals.map((i) => i.at - T0)).to.deep.equal([0, 1000, 2000, 3000])
    expect(timeline.intervals.map((i) => i.acked)).to.deep.equal([10, 0, 0, 20])
    expect(timeline.intervals[0]).to.deep.include({bytes: 500, sent: 10})
    expect(timeline.intervals[1].histogram).to.equal('')
    expect(timeline.intervals[3].retries).to.deep.equal({http_503: 1})
    expect(timeline.intervals[3].latency.count).to.equal(2)
    expect(timeline.intervals[3].latency.maxMs).to.be.within(349, 351)
    expect(timeline.intervals[0].latency.p99Ms).to.be.within(4.9, 5.1)
  })

  it('merges timelines interval by interval: every counter is the sum of the workers\', histograms add up', () => {
    const parts = [recorded(1, 1000, T0, 400), recorded(2, 1000, T0 + 1234, 300), recorded(3, 1000, T0 + 20_500, 500)]
    const merged = mergeTimelines(parts)!
    expect(merged.intervalMs).to.equal(1000)
    const maps = parts.map((p) => byAt(p))
    for (const interval of merged.intervals) {
      const same = maps.map((m) => m.get(interval.at)).filter((i) => i !== undefined)
      for (const key of ['sent', 'acked', 'failed', 'bytes'] as const) expect(interval[key], `${key} at ${interval.at}`).to.equal(same.reduce((s, i) => s + i[key], 0))
      expect(interval.latency.count).to.equal(same.reduce((s, i) => s + i.latency.count, 0))
      if (interval.histogram) expect(decodeHistogram(interval.histogram).totalCount).to.equal(interval.latency.count)
      const retries = same.reduce((s, i) => s + Object.values(i.retries).reduce((a, b) => a + b, 0), 0)
      expect(Object.values(interval.retries).reduce((a, b) => a + b, 0)).to.equal(retries)
    }

    const totals = parts.map((p) => timelineTotals(p))
    expect(timelineTotals(merged)).to.deep.equal({
      acked: totals.reduce((s, t) => s + t.acked, 0),
      bytes: totals.reduce((s, t) => s + t.bytes, 0),
      errors: totals.reduce((s, t) => s + t.errors, 0),
      failed: totals.reduce((s, t) => s + t.failed, 0),
      retries: totals.reduce((s, t) => s + t.retries, 0),
      sent: totals.reduce((s, t) => s + t.sent, 0),
    })
    // Consecutive, aligned intervals.
    for (const [n, interval] of merged.intervals.entries()) expect(interval.at).to.equal(merged.intervals[0].at + n * 1000)
  })

  it('merges timelines of different intervals at their common multiple, exactly', () => {
    const a = recorded(4, 1000, T0, 300)
    const b = recorded(5, 1500, T0, 300)
    const merged = mergeTimelines([a, b])!
    expect(merged.intervalMs).to.equal(3000)
    for (const interval of merged.intervals) expect(interval.at % 3000).to.equal(0)
    const ta = timelineTotals(a)
    const tb = timelineTotals(b)
    expect(timelineTotals(merged).acked).to.equal(ta.acked + tb.acked)
    expect(timelineTotals(merged).sent).to.equal(ta.sent + tb.sent)
  })

  it('stays bounded on long runs by doubling the interval, keeping every total and every latency count', () => {
    const long = recorded(6, 1000, T0, 6000)
    expect(long.intervals.length).to.be.at.most(600)
    expect(long.intervalMs).to.be.greaterThan(1000)
    const fine = recorded(6, 1000, T0, 6000)
    const coarse = bounded(fine, 50)
    expect(coarse.intervals.length).to.be.at.most(50)
    expect(timelineTotals(coarse)).to.deep.equal(timelineTotals(fine))
    const counts = (t: Timeline) => t.intervals.reduce((s, i) => s + i.latency.count, 0)
    expect(counts(coarse)).to.equal(counts(fine))
    // Coarsening by hand gives the same intervals as the bound.
    expect(coarsen(fine, coarse.intervalMs)).to.deep.equal(coarse)
    expect(() => coarsen(fine, fine.intervalMs * 1.5)).to.throw(RangeError)
  })

  it('adds up to the run\'s counters with failures, partial acknowledgements and retries', async () => {
    const clock = new FakeClock(T0)
    const transport = scriptedTransport((request) => {
      clock.advance(130)
      const b = Number(/-b(\d+)/.exec(request.headers['idempotency-key'])![1])
      if (b % 5 === 1) return {body: '{"error":"bad"}', statusCode: 400}
      if (b % 5 === 2) return ok(60)
      if (b % 5 === 3 && request.attempt === 0) return {headers: {'retry-after': '0'}, statusCode: 503}
      return ok()
    })
    const recorder = new TimelineRecorder(1000, clock)
    const outcome = await sendLoad({
      batchSize: 100,
      clock,
      concurrency: 2,
      intervals: recorder,
      logs: 5000,
      payload: 'array',
      random: () => 0.5,
      retries: 3,
      synth: new LogSynth({runId: 'run-sums', seed: 1}),
      transport,
      worker: {count: 1, index: 0},
    })
    const timeline = recorder.toJSON()
    expect(timeline.intervals.length).to.be.greaterThan(2)
    expect(outcome.logs.failed).to.be.greaterThan(0)
    expect(outcome.retries.count).to.be.greaterThan(0)
    expect(timelineTotals(timeline)).to.deep.equal({
      acked: outcome.logs.acked,
      bytes: outcome.bytesSent,
      errors: outcome.errors.total,
      failed: outcome.logs.failed,
      retries: outcome.retries.count,
      sent: outcome.logs.sent,
    })
    expect(timeline.intervals.reduce((sum, i) => sum + i.latency.count, 0)).to.equal(outcome.batches.acked)
  })

  it('shows a target that stalls for 2 s mid-run: no acks in those intervals, and a latency spike (open model)', async () => {
    const clock = new FakeClock(T0)
    let stalled = false
    const transport = scriptedTransport(() => {
      // 10 ms an answer, but nothing is answered from 2.95 s to 5.0 s.
      if (!stalled && clock.now() >= 2950) {
        stalled = true
        clock.advance(5000 - clock.now())
      } else clock.advance(10)
      return ok()
    })
    const recorder = new TimelineRecorder(1000, clock)
    const outcome = await sendLoad({
      batchSize: 100,
      clock,
      concurrency: 1,
      durationMs: 8000,
      intervals: recorder,
      maxInFlight: 1,
      payload: 'array',
      random: () => 0.5,
      rate: 2000,
      synth: new LogSynth({runId: 'run-stall', seed: 1}),
      transport,
      worker: {count: 1, index: 0},
    })
    const timeline = recorder.toJSON()
    expect(timelineTotals(timeline).acked).to.equal(outcome.logs.acked)
    const acked = timeline.intervals.map((i) => i.acked)
    // Seconds 3 and 4 hold no acknowledgement: the answer that stalled came at 5.0 s.
    expect(acked.slice(3, 5)).to.deep.equal([0, 0])
    expect(acked.slice(0, 3).every((n) => n > 0)).to.equal(true)
    expect(acked.slice(5, 7).every((n) => n > 0)).to.equal(true)
    const p99 = timeline.intervals.map((i) => i.latency.p99Ms)
    // Before the stall batches are answered within a schedule step; after it those due meanwhile are ~2 s late.
    expect(Math.max(...p99.slice(0, 3))).to.be.below(100)
    expect(p99[5]).to.be.above(1500)
  })
})
