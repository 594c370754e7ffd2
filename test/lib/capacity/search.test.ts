import {expect} from 'chai'

import type {Reason} from '../../../src/lib/capacity/options.js'

import {bracketOf, geometricMidpoint, searchCapacity, type SearchStep, type TrialOutcome, type Verdict} from '../../../src/lib/capacity/search.js'

/** A target that sustains exactly `limit` logs/s: a trial passes at or below it and fails above it with `reason`. */
function target(limit: number, reason: Reason = 'backlog') {
  const rates: number[] = []
  const trial = async (rate: number): Promise<TrialOutcome> => {
    rates.push(rate)
    return rate <= limit ? {reasons: [], verdict: 'pass'} : {reasons: [reason], verdict: 'fail'}
  }

  return {rates, trial}
}

/** A trial function that answers from a script, in order. */
function scripted(verdicts: [Verdict, Reason[]][]) {
  const rates: number[] = []
  const trial = async (rate: number): Promise<TrialOutcome> => {
    rates.push(rate)
    const next = verdicts[rates.length - 1]
    if (!next) throw new Error(`no scripted verdict for trial ${rates.length} at ${rate}`)
    return {reasons: next[1], verdict: next[0]}
  }

  return {rates, trial}
}

/** A clock that moves only when a trial runs: each trial takes `trialMs`. */
function trialClock(trialMs: number) {
  let t = 0
  return {
    clock: {now: () => t},
    wrap<T>(fn: (rate: number, index: number, signal: AbortSignal | undefined) => Promise<T>) {
      return async (rate: number, index: number, signal: AbortSignal | undefined) => {
        t += trialMs
        return fn(rate, index, signal)
      }
    },
  }
}

const phases = (steps: SearchStep<TrialOutcome>[]) => steps.map((s) => `${s.phase}:${s.rate}:${s.trial.verdict}`)

describe('capacity search', () => {
  it('brackets by doubling, bisects geometrically to the precision, confirms, and reports the highest pass below the lowest fail', async () => {
    const {rates, trial} = target(5000)
    const result = await searchCapacity({precision: 0.05, start: 1000, trial})
    // 8000 fails; geometric midpoints of [4000, 8000] until high / low − 1 < 5%, then one more trial at the maximum.
    expect(rates).to.deep.equal([1000, 2000, 4000, 8000, 5657, 4757, 5188, 4968, 4968])
    expect(phases(result.steps)).to.deep.equal([
      'bracket:1000:pass',
      'bracket:2000:pass',
      'bracket:4000:pass',
      'bracket:8000:fail',
      'bisect:5657:fail',
      'bisect:4757:pass',
      'bisect:5188:fail',
      'bisect:4968:pass',
      'confirm:4968:pass',
    ])
    expect(result.outcome).to.equal('found')
    expect(result.maximum).to.equal(4968)
    expect(result.lowestFailing).to.equal(5188)
    expect(5188 / 4968 - 1).to.be.below(0.05)
    expect(result.limitedBy).to.deep.equal(['backlog'])
    expect(result.steps.map((s) => s.index)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('caps the doubling at --max and bisects below it', async () => {
    const {rates, trial} = target(2500, 'latency')
    const result = await searchCapacity({max: 3000, precision: 0.05, start: 1000, trial})
    expect(rates).to.deep.equal([1000, 2000, 3000, 2449, 2711, 2577, 2512, 2449])
    expect(result.outcome).to.equal('found')
    expect(result.maximum).to.equal(2449)
    expect(result.lowestFailing).to.equal(2512)
    expect(result.limitedBy).to.deep.equal(['latency'])
  })

  it('says that even the start rate fails, with one trial and no maximum', async () => {
    const {rates, trial} = target(500, 'errors')
    const result = await searchCapacity({precision: 0.05, start: 1000, trial})
    expect(rates).to.deep.equal([1000])
    expect(result.outcome).to.equal('start-fails')
    expect(result.maximum).to.equal(null)
    expect(result.lowestFailing).to.equal(1000)
    expect(result.limitedBy).to.deep.equal(['errors'])
    expect(result.notes[0]).to.match(/even the start rate fails: 1,000 logs\/s \(errors\)/)
  })

  it('stops when --max passes: the limit lies above it', async () => {
    const {rates, trial} = target(Number.POSITIVE_INFINITY)
    const result = await searchCapacity({max: 3000, precision: 0.05, start: 1000, trial})
    expect(rates).to.deep.equal([1000, 2000, 3000])
    expect(result.outcome).to.equal('above-max')
    expect(result.maximum).to.equal(3000)
    expect(result.lowestFailing).to.equal(null)
    expect(result.limitedBy).to.deep.equal([])
    expect(result.notes).to.deep.equal(['--max 3,000 logs/s passed: the limit lies above --max'])
  })

  it('a confirmation that fails contradicts the earlier pass: it is said, and the search goes on below', async () => {
    const {rates, trial} = scripted([
      ['pass', []], // 1000
      ['pass', []], // 2000
      ['pass', []], // 4000
      ['fail', ['backlog']], // 8000
      ['fail', ['backlog']], // 5657
      ['pass', []], // 4757
      ['fail', ['backlog']], // 5188
      ['pass', []], // 4968
      ['fail', ['latency']], // confirm 4968: contradicts
      ['pass', []], // confirm 4757
    ])
    const result = await searchCapacity({precision: 0.05, start: 1000, trial})
    expect(rates).to.deep.equal([1000, 2000, 4000, 8000, 5657, 4757, 5188, 4968, 4968, 4757])
    expect(result.steps.map((s) => s.phase).slice(-2)).to.deep.equal(['confirm', 'confirm'])
    expect(result.outcome).to.equal('found')
    // The highest pass strictly below the lowest fail: 4968 both passed and failed, so it is not the maximum.
    expect(result.maximum).to.equal(4757)
    expect(result.lowestFailing).to.equal(4968)
    expect(result.limitedBy).to.deep.equal(['latency'])
    expect(result.notes).to.deep.equal([
      'the confirmation of 4,968 logs/s failed (latency), contradicting its earlier pass: the search goes on below 4,968 logs/s',
    ])
  })

  it('bisects again below a contradicted confirmation when the new bracket is still wider than the precision', async () => {
    const {rates, trial} = scripted([
      ['pass', []], // 1000
      ['fail', ['backlog']], // 2000
      ['pass', []], // 1414
      ['fail', ['backlog']], // 1682
      ['fail', ['backlog']], // 1542
      ['fail', ['backlog']], // 1477: 1477 / 1414 − 1 < 5%
      ['fail', ['loss']], // confirm 1414: contradicts; [1000, 1414] is wider than 5%
      ['pass', []], // 1189
      ['pass', []], // 1297
      ['pass', []], // 1354: 1414 / 1354 − 1 < 5%
      ['pass', []], // confirm 1354
    ])
    const result = await searchCapacity({precision: 0.05, start: 1000, trial})
    expect(rates).to.deep.equal([1000, 2000, 1414, 1682, 1542, 1477, 1414, 1189, 1297, 1354, 1354])
    expect(result.steps.map((s) => s.phase)).to.deep.equal(['bracket', 'bracket', 'bisect', 'bisect', 'bisect', 'bisect', 'confirm', 'bisect', 'bisect', 'bisect', 'confirm'])
    expect(result.outcome).to.equal('found')
    expect(result.maximum).to.equal(1354)
    expect(result.lowestFailing).to.equal(1414)
    expect(result.limitedBy).to.deep.equal(['loss'])
  })

  it('when the start rate passes once and then fails its confirmation, even the start rate fails', async () => {
    const {rates, trial} = scripted([
      ['pass', []],
      ['fail', ['backlog']],
      ['fail', ['backlog']], // bisect 1414
      ['fail', ['backlog']], // 1189
      ['fail', ['backlog']], // 1090
      ['fail', ['backlog']], // 1044
      ['fail', ['latency']], // confirm 1000
    ])
    const result = await searchCapacity({precision: 0.05, start: 1000, trial})
    expect(rates).to.deep.equal([1000, 2000, 1414, 1189, 1090, 1044, 1000])
    expect(result.outcome).to.equal('start-fails')
    expect(result.maximum).to.equal(null)
    expect(result.notes.at(-1)).to.equal('even the start rate fails: 1,000 logs/s passed once, then failed again')
  })

  it('stops at an inconclusive trial and says to add workers; the passes so far stand as a lower bound', async () => {
    const {rates, trial} = scripted([
      ['pass', []],
      ['pass', []],
      ['inconclusive', ['generator']],
    ])
    const result = await searchCapacity({precision: 0.05, start: 1000, trial})
    expect(rates).to.deep.equal([1000, 2000, 4000])
    expect(result.outcome).to.equal('generator')
    expect(result.maximum).to.equal(2000)
    expect(result.lowestFailing).to.equal(null)
    expect(result.limitedBy).to.deep.equal(['generator'])
    expect(result.notes[0]).to.match(/trial 3 at 4,000 logs\/s is inconclusive: .*add workers \(--workers\)/)
  })

  it('--budget: stops before a trial that would end past it, with the best bracket so far (injected clock)', async () => {
    const timing = trialClock(10_000)
    const {rates, trial} = target(5000)
    const result = await searchCapacity({budgetMs: 65_000, clock: timing.clock, precision: 0.05, start: 1000, trial: timing.wrap(trial), trialEstimateMs: 10_000})
    // Six trials end at 60 s; a seventh would end at 70 s.
    expect(rates).to.deep.equal([1000, 2000, 4000, 8000, 5657, 4757])
    expect(result.outcome).to.equal('budget')
    expect(result.maximum).to.equal(4757)
    expect(result.lowestFailing).to.equal(5657)
    expect(result.notes).to.deep.equal(['the budget of 65 s is spent (60 s so far, and a trial takes about 10 s): the search stops with the best bracket so far'])
  })

  it('--budget counts the longest trial seen, not only the estimate', async () => {
    let t = 0
    const {rates, trial} = target(5000)
    const result = await searchCapacity({
      budgetMs: 80_000,
      clock: {now: () => t},
      precision: 0.05,
      start: 1000,
      async trial(rate, index, signal) {
        t += index === 2 ? 40_000 : 5000
        return trial(rate)
      },
      trialEstimateMs: 5000,
    })
    // 5 + 40 = 45 s: with the estimate (5 s) a third trial would fit in 80 s, with the longest seen (40 s) it does not.
    expect(rates).to.deep.equal([1000, 2000])
    expect(result.outcome).to.equal('budget')
  })

  it('an abort (Ctrl+C) during a trial returns the curve so far, without the cut-short trial', async () => {
    const controller = new AbortController()
    const rates: number[] = []
    const result = await searchCapacity({
      precision: 0.05,
      signal: controller.signal,
      start: 1000,
      async trial(rate, index) {
        rates.push(rate)
        if (index === 3) controller.abort()
        return {reasons: [], verdict: 'pass'}
      },
    })
    expect(rates).to.deep.equal([1000, 2000, 4000])
    expect(result.outcome).to.equal('interrupted')
    expect(result.steps.map((s) => s.rate)).to.deep.equal([1000, 2000])
    expect(result.maximum).to.equal(2000)
    expect(result.notes).to.deep.equal(['interrupted during trial 3 at 4,000 logs/s: that trial is not judged'])
  })

  it('a trial that cannot run ends the search with its error and the curve so far', async () => {
    const gone = new Error('cannot reach http://127.0.0.1:1/ (ECONNREFUSED)')
    const result = await searchCapacity({
      precision: 0.05,
      start: 1000,
      async trial(rate, index) {
        if (index === 2) throw gone
        return {reasons: [], verdict: 'pass'}
      },
    })
    expect(result.outcome).to.equal('error')
    expect(result.error).to.equal(gone)
    expect(result.steps.map((s) => s.rate)).to.deep.equal([1000])
    expect(result.notes).to.deep.equal(['trial 2 at 2,000 logs/s could not run: cannot reach http://127.0.0.1:1/ (ECONNREFUSED)'])
  })

  it('tells each trial its phase as it starts, and each step as it is judged', async () => {
    const started: string[] = []
    const judged: number[] = []
    await searchCapacity({
      onStart: (index, phase, rate) => started.push(`${index}:${phase}:${rate}`),
      onStep: (step) => judged.push(step.index),
      precision: 0.3,
      start: 100,
      trial: target(250).trial,
    })
    expect(started).to.deep.equal(['1:bracket:100', '2:bracket:200', '3:bracket:400', '4:bisect:283', '5:bisect:238', '6:confirm:238'])
    expect(judged).to.deep.equal([1, 2, 3, 4, 5, 6])
  })
})

describe('capacity bracket', () => {
  it('the maximum is the highest pass strictly below the lowest fail, whatever the order', () => {
    const step = (rate: number, verdict: Verdict) => ({index: 0, phase: 'bisect' as const, rate, trial: {reasons: [], verdict}})
    expect(bracketOf([step(1000, 'pass'), step(4000, 'pass'), step(2000, 'fail'), step(1500, 'pass')])).to.deep.equal({high: 2000, low: 1500})
    expect(bracketOf([step(1000, 'pass'), step(1000, 'fail')])).to.deep.equal({high: 1000, low: null})
    expect(bracketOf([step(1000, 'pass'), step(3000, 'inconclusive')])).to.deep.equal({high: null, low: 1000})
  })

  it('geometric midpoints are whole logs/s', () => {
    expect(geometricMidpoint(4000, 8000)).to.equal(5657)
    expect(geometricMidpoint(1, 2)).to.equal(1)
  })
})
