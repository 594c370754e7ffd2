import {expect} from 'chai'

import type {ClickHouseSample, ClickHouseView} from '../../../src/lib/load/measure/clickhouse-view.js'
import type {Verification} from '../../../src/lib/verify/verify.js'

import {judgeTrial, p99Trend, partsTrouble, type TrialFigures, windowIntervals} from '../../../src/lib/capacity/judge.js'
import {parseSlo, withDefaultSlos} from '../../../src/lib/capacity/options.js'
import {type Timeline, TimelineRecorder} from '../../../src/lib/load/measure/timeline.js'
import {newHistogram, recordMs, summarize} from '../../../src/lib/load/measure/histogram.js'

const T0 = Date.parse('2025-01-01T00:00:00Z')
const INTERVAL = 500

/** One interval as recorded: logs sent, acknowledged and failed in it, and the latencies of its acknowledged batches. */
interface Recorded {
  sent?: number
  acked?: number
  failed?: number
  latencies?: number[]
  /** Generator fidelity, as the sender will record it. */
  intended?: number
  slotWaits?: number
}

/** A timeline recorded by the real recorder on a fake wall clock, interval i starting at T0 + i·500 ms. */
function record(intervals: Recorded[]): Timeline {
  let wall = T0
  const recorder = new TimelineRecorder(INTERVAL, {wallNow: () => wall})
  intervals.forEach((interval, i) => {
    wall = T0 + i * INTERVAL + 1
    if (interval.sent) recorder.sent(interval.sent, interval.sent * 100)
    if (interval.acked) recorder.acked(interval.acked)
    if (interval.failed) {
      recorder.failed(interval.failed)
      recorder.batchFailed('http_503')
    }

    for (const ms of interval.latencies ?? []) recorder.answered(ms)
  })
  const timeline = recorder.toJSON()
  intervals.forEach((interval, i) => {
    if (interval.intended !== undefined) Object.assign(timeline.intervals[i], {intended: interval.intended, slotWaits: interval.slotWaits ?? 0})
  })
  return timeline
}

/** A steady interval at 10,000 logs/s: 5,000 logs in 10 batches of 500, each answered in `ms`. */
const steady = (ms: number | number[], extra: Recorded = {}): Recorded => ({acked: 5000, latencies: Array.isArray(ms) ? ms : Array.from({length: 10}, () => ms), sent: 5000, ...extra})

const verified = (missing = 0, duplicated = 0): Verification => ({
  acked: 50_000,
  duplicated,
  exact: true,
  missing,
  ok: missing === 0,
  outside: 0,
  pollMs: 250,
  readBackDelayMs: 0,
  runId: 'cap-t01',
  store: 'test',
  stored: 50_000 - missing + duplicated,
  unacknowledged: 0,
  unique: 50_000 - missing,
  waitedMs: 0,
})

/** A trial at 10,000 logs/s: 1 s of warm-up (two intervals) then 5 s (ten intervals). */
function figures(intervals: Recorded[], overrides: Partial<TrialFigures> = {}): TrialFigures {
  return {
    endedAtMs: T0 + intervals.length * INTERVAL,
    offeredLogsPerSecond: 10_000,
    scheduleEndMs: T0 + 6000,
    startedAtMs: T0,
    timeline: record(intervals),
    verification: verified(),
    warmupMs: 1000,
    ...overrides,
  }
}

const slos = (...expressions: string[]) => withDefaultSlos(expressions.map((e) => parseSlo(e)), true)

/** What HDR reports for a value (3 significant digits): the figures below are exact. */
const hdr = (ms: number) => {
  const h = newHistogram()
  recordMs(h, ms)
  return summarize(h).maxMs
}

describe('capacity trial verdict', () => {
  it('passes a steady trial, and judges only its window: the warm-up intervals are left out', async () => {
    // The warm-up is slow (900 ms): it would break p99<=100ms if it counted.
    const trial = figures([steady(900), steady(900), ...Array.from({length: 10}, () => steady(20))])
    const judged = judgeTrial(trial, slos('p99<=100ms'))
    expect(judged.verdict).to.equal('pass')
    expect(judged.reasons).to.deep.equal([])
    expect(judged.evidence).to.deep.equal([])
    expect(judged.window.intervals).to.equal(10)
    expect(judged.window.startedAt).to.equal(new Date(T0 + 1000).toISOString())
    expect(judged.window.logs).to.deep.equal({acked: 50_000, failed: 0, sent: 50_000})
    expect(judged.window.batches).to.equal(100)
    expect(judged.window.dueLogs).to.equal(50_000)
    expect(judged.latency).to.deep.equal({maxMs: hdr(20), p50Ms: hdr(20), p90Ms: hdr(20), p999Ms: hdr(20), p99Ms: hdr(20)})
    expect(judged.achievedLogsPerSecond).to.equal(10_000)
    expect(judged.errorRate).to.equal(0)
    expect(judged.lost).to.equal(0)
    expect(judged.duplicated).to.equal(0)
    expect(judged.slos.map((s) => [s.expression, s.ok, s.kind, s.implicit === true])).to.deep.equal([
      ['p99<=100ms', true, 'latency', false],
      ['error_rate<=0.1%', true, 'errors', true],
      ['lost==0', true, 'loss', true],
      ['duplicated==0', true, 'loss', true],
    ])
  })

  it('latency: an SLO on the merged histogram of the window fails, with the figure that broke it', () => {
    // Each interval's own p99 is 40 ms; one batch in a hundred at 400 ms puts the window's p99 past 300 ms only when merged.
    const window = Array.from({length: 10}, (_, i) => steady(i % 2 === 0 ? [...Array.from({length: 9}, () => 40), 400] : 40))
    const judged = judgeTrial(figures([steady(20), steady(20), ...window]), slos('p99<=300ms'))
    expect(judged.latency.p99Ms).to.equal(hdr(400))
    expect(judged.verdict).to.equal('fail')
    expect(judged.reasons).to.deep.equal(['latency'])
    expect(judged.evidence).to.deep.equal([{reason: 'latency', text: `p99 ${hdr(400).toFixed(1)} ms breaks p99<=300ms`}])
  })

  it('backlog: the p99 climbs from the first third to the last, even under the SLO', () => {
    // A queue growing by 40 ms a second: 100 ms at the start of the window, 280 ms at its end.
    const window = Array.from({length: 10}, (_, i) => steady(100 + i * 20))
    const judged = judgeTrial(figures([steady(60), steady(80), ...window]), slos('p99<=1s'))
    expect(judged.verdict).to.equal('fail')
    expect(judged.reasons).to.deep.equal(['backlog'])
    const trend = p99Trend(windowIntervals(record([steady(60), steady(80), ...window]), T0 + 1000), INTERVAL)!
    // Thirds of three intervals: the medians are the second (120 ms) and the ninth (260 ms) interval, 3.5 s apart.
    expect(trend).to.deep.equal({earlyMs: hdr(120), lateMs: hdr(260), middleMs: (hdr(180) + hdr(200)) / 2, msPerSecond: (hdr(260) - hdr(120)) / 3.5})
    expect(judged.evidence[0].text).to.equal(
      `p99 climbed from ${hdr(120).toFixed(1)} ms (first third of the window) to ${hdr(260).toFixed(1)} ms (last third), ${trend.msPerSecond.toFixed(1)} ms more every second, and the median with it (${hdr(120).toFixed(1)} to ${hdr(260).toFixed(1)} ms): a queue that grows`,
    )
  })

  it('backlog: latency that rises and falls within the window is no climb (each third above the one before)', () => {
    // Low, then high, then lower again: the last third is 3 times the first (11 ms more a second), but the middle third is above both.
    const window = [20, 20, 20, 200, 200, 200, 200, 60, 60, 400].map((ms) => steady(ms))
    const trend = p99Trend(windowIntervals(record([steady(20), steady(20), ...window]), T0 + 1000), INTERVAL)!
    expect([trend.earlyMs, trend.middleMs, trend.lateMs]).to.deep.equal([hdr(20), hdr(200), hdr(60)])
    expect(trend.msPerSecond).to.be.above(10)
    expect(judgeTrial(figures([steady(20), steady(20), ...window]), slos()).reasons).to.deep.equal([])
  })

  it('backlog: a tail that climbs while the median stays put is stalls, not a queue', () => {
    // Each interval: nine batches at 15 ms and one whose latency rises from 15 to 87 ms (a busy neighbour).
    const window = Array.from({length: 10}, (_, i) => steady([...Array.from({length: 9}, () => 15), 15 + i * 8]))
    const trend = p99Trend(windowIntervals(record([steady(15), steady(15), ...window]), T0 + 1000), INTERVAL)!
    expect(trend.msPerSecond).to.be.above(10)
    expect(trend.lateMs).to.be.above(2 * trend.earlyMs)
    expect(trend.earlyMs < trend.middleMs && trend.middleMs < trend.lateMs).to.equal(true)
    const judged = judgeTrial(figures([steady(15), steady(15), ...window]), slos())
    expect(judged.reasons).to.deep.equal([])
  })

  it('backlog: a queue already long after the warm-up still climbs (no ratio to where it began)', () => {
    // 900 ms of queue when the window opens, 20 ms more every 500 ms interval: 1.2 times at the end, 40 ms more a second.
    const window = Array.from({length: 10}, (_, i) => steady(900 + i * 20))
    const judged = judgeTrial(figures([steady(860), steady(880), ...window]), slos())
    expect(judged.reasons).to.deep.equal(['backlog'])
  })

  it('backlog: one stalled interval in the last third is no climb (the median of each third)', () => {
    const window = Array.from({length: 10}, (_, i) => steady(i === 8 ? 600 : 20))
    const judged = judgeTrial(figures([steady(20), steady(20), ...window]), slos())
    expect(judged.reasons).to.deep.equal([])
    expect(judged.verdict).to.equal('pass')
  })

  it('backlog: a slow climb (under 1% of the rate) or a noisy slow target is no backlog', () => {
    // 5 ms more a second: below 10 ms/s.
    const slow = Array.from({length: 10}, (_, i) => steady(50 + i * 2.5))
    expect(judgeTrial(figures([steady(50), steady(50), ...slow]), slos()).reasons).to.deep.equal([])
    // 2 s of latency that steps up by 60 ms once: fast enough, but not through the window (the middle third is level with the first).
    const wobble = Array.from({length: 10}, (_, i) => steady(2000 + (i > 6 ? 60 : 0)))
    expect(judgeTrial(figures([steady(2000), steady(2000), ...wobble]), slos()).reasons).to.deep.equal([])
  })

  it('backlog: a target that answers less than half of what was due', () => {
    const stuck = Array.from({length: 10}, (_, i) => (i < 2 ? steady(50) : {sent: 1000}))
    const judged = judgeTrial(figures([steady(50), steady(50), ...stuck]), slos())
    expect(judged.reasons).to.deep.equal(['backlog'])
    expect(judged.evidence[0].text).to.equal('the target answered 10,000 of the 50,000 logs due in the window')
  })

  it('errors: an error rate above the SLO (error_rate<=0.1% by default)', () => {
    const window = Array.from({length: 10}, (_, i) => steady(20, i === 4 ? {acked: 4500, failed: 500} : {}))
    const judged = judgeTrial(figures([steady(20), steady(20), ...window]), slos())
    expect(judged.errorRate).to.equal(0.01)
    expect(judged.reasons).to.deep.equal(['errors'])
    expect(judged.evidence).to.deep.equal([{reason: 'errors', text: 'error_rate 1.00% breaks error_rate<=0.1%'}])
    // Failures in the warm-up do not count.
    const warm = judgeTrial(figures([steady(20, {acked: 0, failed: 5000}), steady(20), ...Array.from({length: 10}, () => steady(20))]), slos())
    expect(warm.errorRate).to.equal(0)
    expect(warm.verdict).to.equal('pass')
    // A given SLO replaces the default.
    expect(judgeTrial(figures([steady(20), steady(20), ...window]), slos('error_rate<=2%')).verdict).to.equal('pass')
  })

  it('loss: acknowledged logs missing or duplicated after verification', () => {
    const window = Array.from({length: 10}, () => steady(20))
    const lost = judgeTrial(figures([steady(20), steady(20), ...window], {verification: verified(1234)}), slos('lost==0'))
    expect(lost.lost).to.equal(1234)
    expect(lost.reasons).to.deep.equal(['loss'])
    expect(lost.evidence).to.deep.equal([{reason: 'loss', text: 'lost 1,234 breaks lost==0'}])
    const doubled = judgeTrial(figures([steady(20), steady(20), ...window], {verification: verified(0, 7)}), slos())
    expect(doubled.duplicated).to.equal(7)
    expect(doubled.evidence).to.deep.equal([{reason: 'loss', text: 'duplicated 7 breaks duplicated==0'}])
    // Not verified: the loss SLO cannot pass on missing data.
    const unverified = judgeTrial(figures([steady(20), steady(20), ...window], {verification: null}), slos('lost==0'))
    expect(unverified.lost).to.equal(null)
    expect(unverified.reasons).to.deep.equal(['loss'])
    expect(unverified.evidence[0].text).to.match(/^lost==0: not measured: no store was reachable/)
  })

  it('parts: INSERTs delayed or refused in the window, or parts per partition climbing toward parts_to_delay_insert', () => {
    const sample = (i: number, parts: number, extra: Partial<ClickHouseSample> = {}): ClickHouseSample => ({
      activeParts: parts,
      at: T0 + i * INTERVAL,
      delayedInserts: 0,
      insertedRows: 5000,
      maxPartsPerPartition: parts,
      memoryBytes: 1e8,
      merges: 1,
      queryCpuMs: 10,
      rejectedInserts: 0,
      ...extra,
    })
    const view = (samples: ClickHouseSample[]): ClickHouseView => ({errors: [], intervalMs: INTERVAL, limits: {partsToDelayInsert: 150, partsToThrowInsert: 300, source: 'server'}, samples, stored: null, table: 'logs_db.logs', warnings: []})
    const window = Array.from({length: 10}, () => steady(20))
    const climbing = view(Array.from({length: 12}, (_, i) => sample(i, 20 + i * 6)))
    const judged = judgeTrial(figures([steady(20), steady(20), ...window], {clickhouse: climbing}), slos())
    expect(judged.reasons).to.deep.equal(['parts'])
    expect(judged.evidence[0].text).to.equal("logs_db.logs's active parts in one partition climbed from 44 to 86 during the window, past half of parts_to_delay_insert = 150")
    // The same parts, flat: no trouble. Delayed INSERTs in the warm-up do not count; in the window they do.
    expect(partsTrouble(view(Array.from({length: 12}, (_, i) => sample(i, 90))), T0 + 1000)).to.equal(undefined)
    expect(partsTrouble(view(Array.from({length: 12}, (_, i) => sample(i, 10, i === 1 ? {delayedInserts: 3} : {}))), T0 + 1000)).to.equal(undefined)
    expect(partsTrouble(view(Array.from({length: 12}, (_, i) => sample(i, 10, i === 5 ? {delayedInserts: 3} : {}))), T0 + 1000)).to.equal(
      'ClickHouse delayed 3 INSERTs for too many parts during the window (server-wide count)',
    )
    expect(partsTrouble(view(Array.from({length: 12}, (_, i) => sample(i, 10, i === 5 ? {rejectedInserts: 1} : {}))), T0 + 1000)).to.match(/^ClickHouse refused 1 INSERTs/)
    expect(partsTrouble(view(Array.from({length: 12}, (_, i) => sample(i, i > 8 ? 150 : 100))), T0 + 1000)).to.equal('logs_db.logs reached 150 active parts in one partition: parts_to_delay_insert = 150')
  })

  it('generator: sends behind the schedule, with no batch waiting for a slot, make the trial inconclusive', () => {
    const behind = Array.from({length: 10}, () => steady(20, {acked: 4000, intended: 5000, sent: 4000, slotWaits: 0}))
    const judged = judgeTrial(figures([steady(20, {intended: 5000}), steady(20, {intended: 5000}), ...behind]), slos())
    expect(judged.verdict).to.equal('inconclusive')
    expect(judged.reasons).to.deep.equal(['generator'])
    expect(judged.evidence[0]).to.deep.equal({reason: 'generator', text: 'the generator sent 40,000 of the 50,000 logs its schedule made due in the window, 20.0% behind without waiting for the target'})
    // The same shortfall while batches waited for an in-flight slot: the target was too slow, not the generator.
    const waited = Array.from({length: 10}, () => steady(20, {acked: 4000, intended: 5000, sent: 4000, slotWaits: 3}))
    const target = judgeTrial(figures([steady(20), steady(20), ...waited]), slos())
    expect(target.reasons).to.not.include('generator')
    expect(target.verdict).to.equal('pass')
    // Within 2% of the schedule, and a burst that catches up within the window: no shortfall.
    const close = Array.from({length: 10}, (_, i) => steady(20, {intended: 5000, sent: i % 2 === 0 ? 2000 : 7900}))
    expect(judgeTrial(figures([steady(20), steady(20), ...close]), slos()).reasons).to.deep.equal([])
  })

  it('generator: cannot fire on a timeline without intended and slotWaits (today\'s sender)', () => {
    // Sends far behind the rate and nothing else wrong: without the fields this is not attributed to the generator.
    const behind = Array.from({length: 10}, () => steady(20, {acked: 4000, sent: 4000}))
    const judged = judgeTrial(figures([steady(20), steady(20), ...behind]), slos())
    expect(judged.reasons).to.not.include('generator')
  })

  it('generator: a worker that failed makes the trial inconclusive', () => {
    const judged = judgeTrial(figures([steady(20), steady(20), ...Array.from({length: 10}, () => steady(20))], {workerFailures: ['worker 2 failed: killed by SIGKILL']}), slos())
    expect(judged.verdict).to.equal('inconclusive')
    expect(judged.evidence).to.deep.equal([{reason: 'generator', text: 'worker 2 failed: killed by SIGKILL'}])
  })

  it('names every reason at once, in one order', () => {
    const window = Array.from({length: 10}, (_, i) => steady(100 + i * 40, i === 9 ? {acked: 4000, failed: 1000} : {}))
    const judged = judgeTrial(figures([steady(20), steady(20), ...window], {verification: verified(10)}), slos('p99<=200ms'))
    expect(judged.reasons).to.deep.equal(['latency', 'backlog', 'errors', 'loss'])
    expect(judged.evidence.map((e) => e.reason)).to.deep.equal(['latency', 'backlog', 'errors', 'loss'])
    expect(judged.verdict).to.equal('fail')
  })
})
