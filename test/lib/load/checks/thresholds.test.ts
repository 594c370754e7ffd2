import {expect} from 'chai'

import type {Measurements} from '../../../../src/lib/load/result/types.js'

import {LogbenchError} from '../../../../src/lib/errors.js'
import {evaluateThresholds, parseThreshold, thresholdsPassed} from '../../../../src/lib/load/checks/thresholds.js'

function measured(overrides: Partial<Measurements> = {}): Measurements {
  const latency = {count: 100, histogram: '', maxMs: 900, meanMs: 40, minMs: 1, p50Ms: 30, p90Ms: 80, p999Ms: 700, p99Ms: 240}
  return {
    batches: {acked: 100, failed: 0, sent: 100},
    bytes: {sent: 1},
    durationMs: 4000,
    endedAt: '',
    errors: {byClass: {}, samples: {}, total: 0},
    failedBatches: {keys: [], truncated: false},
    interrupted: false,
    latency,
    logs: {acked: 100_000, failed: 0, sent: 100_000},
    rate: null,
    retries: {byClass: {}, count: 3},
    runId: 'r',
    serviceLatency: latency,
    startedAt: '',
    thresholds: [],
    throughput: {batchesPerSecond: 25, bytesPerSecond: 1, logsPerSecond: 25_000},
    verification: null,
    ...overrides,
  }
}

const usage = (f: () => unknown): LogbenchError => {
  try {
    f()
  } catch (error) {
    expect(error).to.be.instanceOf(LogbenchError)
    expect((error as LogbenchError).kind).to.equal('usage')
    return error as LogbenchError
  }

  throw new Error('expected a usage error')
}

describe('load/thresholds', () => {
  it('parses metrics, operators and units into base units', () => {
    expect(parseThreshold('throughput>=20000')).to.deep.include({metric: 'throughput', op: '>=', value: 20_000})
    expect(parseThreshold('throughput >= 20k')).to.deep.include({value: 20_000})
    expect(parseThreshold('p99<=250ms')).to.deep.include({metric: 'p99', op: '<=', value: 250})
    expect(parseThreshold('p99.9<1s')).to.deep.include({metric: 'p99.9', value: 1000})
    expect(parseThreshold('p50<500us').value).to.be.closeTo(0.5, 1e-9)
    expect(parseThreshold('p90<=12')).to.deep.include({value: 12})
    expect(parseThreshold('errors==0')).to.deep.include({metric: 'errors', op: '==', value: 0})
    expect(parseThreshold('lost==0')).to.deep.include({metric: 'lost', value: 0})
    expect(parseThreshold('error_rate<0.5%').value).to.be.closeTo(0.005, 1e-12)
    expect(parseThreshold('retries!=3')).to.deep.include({op: '!=', value: 3})
  })

  it('rejects what it cannot read as usage errors naming the problem', () => {
    expect(usage(() => parseThreshold('throughput')).message).to.include('not an expression')
    expect(usage(() => parseThreshold('speed>=1')).message).to.include('unknown metric "speed"')
    expect(usage(() => parseThreshold('errors==0ms')).message).to.include('unit "ms"')
    expect(usage(() => parseThreshold('p99<=3kb')).message).to.include('unit')
    expect(usage(() => parseThreshold('p99=>3')).suggestion).to.include('p99<=250ms')
  })

  it('evaluates against a result: pass, breach, and a value that could not be measured', () => {
    const outcomes = evaluateThresholds(
      ['throughput>=20000', 'p99<=250ms', 'p99<=200ms', 'errors==0', 'retries<3', 'lost==0', 'rate>=1000'].map((e) => parseThreshold(e)),
      measured(),
    )
    expect(outcomes.map((o) => o.ok)).to.deep.equal([true, true, false, true, false, false, false])
    expect(outcomes[2].actual).to.equal(240)
    expect(outcomes[5]).to.include({actual: null})
    expect(outcomes[5].reason).to.include('--clickhouse-url')
    expect(outcomes[6].reason).to.include('--rate')
    expect(thresholdsPassed(outcomes)).to.equal(false)
    expect(thresholdsPassed(outcomes.slice(0, 2))).to.equal(true)
  })

  it('reads lost from the verification', () => {
    const verification = {acked: 10, duplicated: 1, exact: true, missing: 2, ok: false, runId: 'r', store: 's', stored: 9, unacknowledged: 0, unique: 8, waitedMs: 0}
    const [lost, dup] = evaluateThresholds([parseThreshold('lost==0'), parseThreshold('duplicated<=1')], measured({verification}))
    expect(lost).to.include({actual: 2, ok: false})
    expect(dup).to.include({actual: 1, ok: true})
  })
})
