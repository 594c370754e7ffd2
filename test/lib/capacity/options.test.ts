import {expect} from 'chai'

import {type CapacityFlagValues, defaultWarmupMs, parseCapacityFlags, parsePrecision, parseRate, parseSlo, withDefaultSlos} from '../../../src/lib/capacity/options.js'
import {expectUsageError} from '../../helpers.js'

const flags = (overrides: Partial<CapacityFlagValues> = {}): CapacityFlagValues => ({
  'batch-size': 1000,
  'max-in-flight': 128,
  retries: 5,
  seed: 1,
  timeout: '30s',
  verify: true,
  'verify-wait': '0s',
  workers: 2,
  ...overrides,
})

describe('capacity options', () => {
  it('reads SLOs in the threshold grammar and names the reason a breach would give', () => {
    expect(parseSlo('p99<=300ms')).to.deep.equal({reason: 'latency', threshold: {expression: 'p99<=300ms', metric: 'p99', op: '<=', value: 300}})
    expect(parseSlo('p999<=1s').threshold.value).to.equal(1000)
    expect(parseSlo('error_rate<=0.1%')).to.deep.include({reason: 'errors'})
    expect(parseSlo('error_rate<=0.1%').threshold.value).to.be.closeTo(0.001, 1e-12)
    expect(parseSlo('lost==0').reason).to.equal('loss')
    expect(parseSlo('duplicated==0').reason).to.equal('loss')
  })

  it('refuses an SLO on an unknown metric, or on a measure of the load, naming it (exit 2)', () => {
    expectUsageError(() => parseSlo('p98<=300ms'), /^--slo "p98<=300ms": unknown metric "p98"$/)
    expectUsageError(() => parseSlo('throughput>=20000'), /^--slo "throughput>=20000": throughput measures the load offered/)
    expectUsageError(() => parseSlo('p99<=3 parsecs'), /^--slo "p99<=3 parsecs": unit "parsecs" does not fit p99 \(use us, ms or s\)$/)
    expectUsageError(() => parseSlo('p99 is low'), /^--slo "p99 is low" is not an expression$/)
  })

  it('adds the defaults: error_rate<=0.1% unless errors are named; lost==0 and duplicated==0 each unless named, when verified', () => {
    const expressions = (slos: ReturnType<typeof withDefaultSlos>) => slos.map((s) => `${s.threshold.expression}${s.implicit ? ' (default)' : ''}`)
    expect(expressions(withDefaultSlos([parseSlo('p99<=300ms')], true))).to.deep.equal(['p99<=300ms', 'error_rate<=0.1% (default)', 'lost==0 (default)', 'duplicated==0 (default)'])
    expect(expressions(withDefaultSlos([parseSlo('p99<=300ms')], false))).to.deep.equal(['p99<=300ms', 'error_rate<=0.1% (default)'])
    expect(expressions(withDefaultSlos([parseSlo('errors==0'), parseSlo('missing<=10')], true))).to.deep.equal(['errors==0', 'missing<=10', 'duplicated==0 (default)'])
  })

  it('reads rates (20000, 20k, 1.5m) and precisions (5, 5%, 0.5%)', () => {
    expect(parseRate('20000', '--start')).to.equal(20_000)
    expect(parseRate('20k', '--start')).to.equal(20_000)
    expect(parseRate('1.5m', '--max')).to.equal(1_500_000)
    expectUsageError(() => parseRate('fast', '--start'), /^--start "fast" is not a rate$/)
    expectUsageError(() => parseRate('0', '--start'), /^--start "0" must be above 0$/)
    expect(parsePrecision('5')).to.equal(0.05)
    expect(parsePrecision('5%')).to.equal(0.05)
    expect(parsePrecision('0.5%')).to.equal(0.005)
    expectUsageError(() => parsePrecision('0'), /^--precision 0 must lie above 0% and below 100%$/)
    expectUsageError(() => parsePrecision('100%'), /^--precision 100% must lie above 0% and below 100%$/)
    expectUsageError(() => parsePrecision('a lot'), /is not a percentage/)
  })

  it('parses the flags into one settings shape, with the defaults', () => {
    const settings = parseCapacityFlags(flags({slo: ['p99<=300ms'], target: 'http://127.0.0.1:3000'}))
    expect(settings.startLogsPerSecond).to.equal(1000)
    expect(settings.maxLogsPerSecond).to.equal(undefined)
    expect(settings.precision).to.equal(0.05)
    expect(settings.trialMs).to.equal(30_000)
    expect(settings.warmupMs).to.equal(6000)
    expect(settings.budgetMs).to.equal(undefined)
    expect(settings.workers).to.equal(2)
    expect(settings.load.target?.href).to.equal('http://127.0.0.1:3000/api/logs/batch')
    expect(settings.load.rate).to.equal(undefined)
    expect(settings.load.thresholds).to.deep.equal([])
    expect(settings.slos.map((s) => s.threshold.expression)).to.deep.equal(['p99<=300ms'])
    const custom = parseCapacityFlags(flags({budget: '10m', interval: '250ms', max: '80k', precision: '2%', start: '5k', trial: '2s', 'trial-warmup': '0s'}))
    expect([custom.startLogsPerSecond, custom.maxLogsPerSecond, custom.precision, custom.trialMs, custom.warmupMs, custom.budgetMs, custom.load.intervalMs]).to.deep.equal([5000, 80_000, 0.02, 2000, 0, 600_000, 250])
  })

  it('warms a trial up for a fifth of it, at least 5 s, never longer than the trial', () => {
    expect([defaultWarmupMs(60_000), defaultWarmupMs(30_000), defaultWarmupMs(10_000), defaultWarmupMs(3000)]).to.deep.equal([12_000, 6000, 5000, 3000])
    expect(parseCapacityFlags(flags({trial: '10s'})).warmupMs).to.equal(5000)
  })

  it('refuses bad input, naming it (exit 2)', () => {
    expectUsageError(() => parseCapacityFlags(flags({max: '10k', start: '20k'})), /^--start 20000 is above --max 10000$/)
    expectUsageError(() => parseCapacityFlags(flags({precision: '0'})), /^--precision 0 must lie above 0%/)
    expectUsageError(() => parseCapacityFlags(flags({precision: '150%'})), /^--precision 150% must lie above 0%/)
    expectUsageError(() => parseCapacityFlags(flags({slo: ['p98<=1s']})), /unknown metric "p98"/)
    expectUsageError(() => parseCapacityFlags(flags({trial: '2s'})), /^--trial 2s is shorter than three intervals of 1000 ms$/)
    expectUsageError(() => parseCapacityFlags(flags({interval: '500ms', trial: '1s'})), /^--trial 1s is shorter than three intervals of 500 ms$/)
    expectUsageError(() => parseCapacityFlags(flags({slo: ['lost==0'], verify: false})), /^--slo lost==0 needs verification, and --no-verify turns it off$/)
    expectUsageError(() => parseCapacityFlags(flags({start: '1', workers: 2})), /^--start 1 is less than one log per second for each of 2 workers$/)
    expectUsageError(() => parseCapacityFlags(flags({budget: '20s', trial: '30s'})), /^--budget 20s is shorter than one trial \(36 s with its warm-up\)$/)
    expectUsageError(() => parseCapacityFlags(flags({protocol: 'otlp'})), /--protocol otlp needs --target/)
  })
})
