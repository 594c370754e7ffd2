import {expect} from 'chai'

import {Schedule} from '../../../../src/lib/load/send/schedule.js'

const close = (actual: number, expected: number, what: string) => expect(Math.abs(actual - expected), `${what}: ${actual} against ${expected}`).to.be.below(1e-6)

describe('load/send/schedule: pacing from the integrated rate', () => {
  it('a constant rate: logs due grow linearly, and batch times are their inverse', () => {
    const schedule = new Schedule({durationMs: 10_000, rate: 2000})
    expect(schedule.totalLogs).to.equal(20_000)
    expect(schedule.durationMs).to.equal(10_000)
    close(schedule.dueBy(2500), 5000, 'dueBy')
    close(schedule.timeOf(5000), 2500, 'timeOf')
    expect(new Schedule({rate: 10}).totalLogs).to.equal(Number.POSITIVE_INFINITY)
  })

  it('stages ramp linearly from the previous end rate (k6 ramping arrival rate), a 0s stage jumps, a warm-up holds the first rate', () => {
    // 2 s warm-up at 1000, ramp 1000 → 3000 over 2 s, jump to 500, hold 500 for 4 s.
    const schedule = new Schedule({stages: [{durationMs: 2000, rate: 3000}, {durationMs: 0, rate: 500}, {durationMs: 4000, rate: 500}], startRate: 1000, warmupMs: 2000})
    expect(schedule.segments.map(({kind, index, startMs, endMs, from, to}) => ({endMs, from, index, kind, startMs, to}))).to.deep.equal([
      {endMs: 2000, from: 1000, index: -1, kind: 'warmup', startMs: 0, to: 1000},
      {endMs: 4000, from: 1000, index: 0, kind: 'stage', startMs: 2000, to: 3000},
      {endMs: 4000, from: 3000, index: 1, kind: 'stage', startMs: 4000, to: 500},
      {endMs: 8000, from: 500, index: 2, kind: 'stage', startMs: 4000, to: 500},
    ])
    expect(schedule.warmupMs).to.equal(2000)
    // 2000 (warm-up) + 4000 (the ramp's area) + 2000 (the hold).
    expect(schedule.totalLogs).to.equal(8000)
    close(schedule.dueBy(3000), 2000 + 1000 + 500, 'half-way up the ramp: 1000·1 + 1000·1²/2')
    close(schedule.rateAt(3000), 2000, 'rate half-way up the ramp')
    close(schedule.rateAt(5000), 500, 'rate after the jump')
    for (const logs of [1, 999, 2000, 2001, 3250, 5999, 6000, 6001, 7999]) close(schedule.dueBy(schedule.timeOf(logs)), logs, `dueBy(timeOf(${logs}))`)
    expect(schedule.timeOf(8001)).to.equal(Number.POSITIVE_INFINITY)
  })

  it('a stage that starts from a given rate and one that ramps down to zero', () => {
    const up = new Schedule({stages: [{durationMs: 4000, rate: 4000}], startRate: 0})
    close(up.totalLogs, 8000, 'ramp from 0')
    close(up.timeOf(2000), 2000, 'a quarter of the ramp\'s logs are due half-way')
    const down = new Schedule({stages: [{durationMs: 1000, rate: 1000}, {durationMs: 2000, rate: 0}]})
    close(down.totalLogs, 2000, 'hold then ramp down')
    close(down.timeOf(1750), 2000, 'three quarters of the ramp-down logs are due half-way')
  })
})
