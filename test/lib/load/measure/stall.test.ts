import {expect} from 'chai'

import type {Interval} from '../../../../src/lib/load/measure/timeline.js'

import {runCli} from '../../../helpers.js'
import {startSink} from '../sink.js'

/**
 * The built CLI against a target that holds every answer for 3 s mid-run. The
 * exact interval arithmetic is tested on a fake clock (timeline.test.ts); here
 * the stall is placed by what the target saw (from its 20th request on), and
 * the assertions follow from it whatever the machine's load: an answer held
 * until `until` reaches the run after `until`, and a batch due at the start of
 * the stall cannot have been answered before its end.
 */
describe('load/measure: a real target that stalls for 3 s mid-run', () => {
  it('shows no acknowledgement in the intervals of the stall, and the latency it caused after it (open model)', async () => {
    const STALL_MS = 3000
    let from = 0
    let until = 0
    let seen = 0
    const sink = await startSink({
      async answer(_request, logs) {
        seen++
        if (seen === 20) {
          from = Date.now()
          until = from + STALL_MS
        }

        const now = Date.now()
        if (from > 0 && now < until) await new Promise((resolve) => setTimeout(resolve, until - now))
        return {body: JSON.stringify({accepted: logs}), status: 202}
      },
    })
    try {
      // 20 batches a second (one every 50 ms) for 6 s, intervals of 500 ms.
      const run = await runCli(['run', '--target', sink.url, '--no-verify', '--rate', '2000', '--batch-size', '100', '--duration', '6s', '--interval', '500ms', '--json'])
      expect(run.code, run.stderr).to.equal(0)
      expect(from, 'the stall began').to.be.greaterThan(0)
      const json = JSON.parse(run.stdout)
      const {intervalMs} = json.timeline
      const intervals: Interval[] = json.timeline.intervals
      expect(intervalMs).to.equal(500)
      expect(intervals.reduce((sum, i) => sum + i.acked, 0)).to.equal(json.logs.acked)
      expect(intervals.reduce((sum, i) => sum + i.sent, 0)).to.equal(json.logs.sent)
      // The last answer before the stall left the target before `from`: allowing it a whole second to
      // arrive, the intervals between from + 1 s and `until` (at least three) hold no acknowledgement.
      const inside = intervals.filter((i) => i.at >= from + 1000 && i.at + intervalMs <= until)
      expect(inside.length).to.be.at.least(3)
      for (const i of inside) expect(i.acked, new Date(i.at).toISOString()).to.equal(0)
      // The batch due in the first 50 ms of the stall was answered at `until` at the earliest: its
      // latency, from its intended time, is nearly the whole stall, and it shows after the stall ends.
      const peak = Math.max(...intervals.map((i) => i.latency.maxMs))
      expect(peak).to.be.at.least(STALL_MS - 50)
      const peakAt = intervals.find((i) => i.latency.maxMs === peak)!.at
      expect(peakAt + intervalMs).to.be.greaterThan(until)
      // The verdict names the gap: at least the two seconds of empty intervals above.
      const gaps = (json.bottleneck.evidence as string[]).map((line) => /no acknowledgement for (\d+(?:\.\d)?) s/.exec(line)).filter((match) => match !== null)
      expect(Math.max(...gaps.map((match) => Number(match![1]))), json.bottleneck.evidence.join('\n')).to.be.at.least(2)
    } finally {
      await sink.stop()
    }
  })
})
