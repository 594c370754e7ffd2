import {expect} from 'chai'

import type {Interval} from '../../../../src/lib/load/measure/timeline.js'

import {runCli} from '../../../helpers.js'
import {startSink} from '../sink.js'

describe('load/measure: a real target that stalls for 2 s mid-run', () => {
  it('shows no acknowledgement in the intervals of the stall, and the latency spike after it (open model)', async () => {
    let stallFrom = 0
    let stallUntil = 0
    const sink = await startSink({
      async answer(_request, logs) {
        const now = Date.now()
        if (stallFrom === 0) {
          // Two seconds after the first request, hold every answer for 2 s.
          stallFrom = now + 2000
          stallUntil = stallFrom + 2000
        }

        if (now >= stallFrom && now < stallUntil) await new Promise((resolve) => setTimeout(resolve, stallUntil - now))
        return {body: JSON.stringify({accepted: logs}), status: 202}
      },
    })
    try {
      const run = await runCli(['run', '--target', sink.url, '--no-verify', '--rate', '2000', '--batch-size', '100', '--duration', '6s', '--interval', '500ms', '--json'])
      expect(run.code, run.stderr).to.equal(0)
      const json = JSON.parse(run.stdout)
      const intervals: Interval[] = json.timeline.intervals
      expect(intervals.reduce((sum, i) => sum + i.acked, 0)).to.equal(json.logs.acked)
      // Intervals wholly inside the stall hold no acknowledgement; at least two of 500 ms are.
      expect(json.timeline.intervalMs).to.equal(500)
      const inside = intervals.filter((i) => i.at >= stallFrom + 50 && i.at + json.timeline.intervalMs <= stallUntil - 50)
      expect(inside.length).to.be.at.least(2)
      for (const i of inside) expect(i.acked, new Date(i.at).toISOString()).to.equal(0)
      // Before the stall answers came at once; the interval where it ends holds the batches that waited.
      const before = intervals.filter((i) => i.at + json.timeline.intervalMs <= stallFrom && i.latency.count > 0)
      expect(before.length).to.be.at.least(1)
      expect(Math.max(...before.map((i) => i.latency.p99Ms))).to.be.below(500)
      const end = intervals.findIndex((i) => i.at <= stallUntil && stallUntil < i.at + json.timeline.intervalMs)
      expect(end).to.be.above(0)
      // (the held answers land in that interval, or just after its end)
      expect(Math.max(...intervals.slice(end, end + 2).map((i) => i.latency.maxMs))).to.be.above(1500)
      expect(json.bottleneck.evidence.join(' ')).to.match(/no acknowledgement for [12](\.\d)? s/)
    } finally {
      await sink.stop()
    }
  })
})
