import {expect} from 'chai'

import {aggregateMeasurements, assess, buildAggregate, workerReport} from '../../../../src/lib/load/result/aggregate.js'
import {decodeHistogram, summarize} from '../../../../src/lib/load/measure/histogram.js'
import {workerResult} from '../results.js'

describe('load/aggregate', () => {
  it('adds counters and merges histograms: the p99 of the whole is not the average of p99s', async () => {
    // Worker 0 answers in 1 ms, worker 1 in 100 ms; each 50 batches.
    const fast = await workerResult({count: 2, index: 0, latencyMs: 1, logs: 5000})
    const slow = await workerResult({count: 2, index: 1, latencyMs: 100, logs: 5000})
    expect(fast.latency.p99Ms).to.be.closeTo(1, 0.01)
    expect(slow.latency.p99Ms).to.be.closeTo(100, 0.1)
    const m = aggregateMeasurements([fast, slow])
    expect(m.logs).to.deep.equal({acked: 10_000, failed: 0, sent: 10_000})
    expect(m.batches.sent).to.equal(100)
    expect(m.latency.count).to.equal(100)
    expect(m.latency.p50Ms).to.be.closeTo(1, 0.01)
    expect(m.latency.p90Ms).to.be.closeTo(100, 0.1)
    expect(m.latency.p99Ms).to.be.closeTo(100, 0.1)
    const {histogram, ...summary} = m.latency
    expect(summarize(decodeHistogram(histogram))).to.deep.equal(summary)
    // Both started at the same instant; the run lasts as long as the slower worker.
    expect(m.durationMs).to.equal(slow.durationMs)
    expect(m.throughput.logsPerSecond).to.be.closeTo((10_000 * 1000) / slow.durationMs, 0.1)
    expect(m.bytes.sent).to.equal(fast.bytes.sent + slow.bytes.sent)
  })

  it('sums errors by class, keeps a sample, and collects failed batch keys of every worker', async () => {
    const a = await workerResult({count: 2, failBatches: [1], index: 0, latencyMs: 1, logs: 300})
    const b = await workerResult({count: 2, failBatches: [0, 2], index: 1, latencyMs: 1, logs: 300})
    const m = aggregateMeasurements([a, b])
    expect(m.errors.total).to.equal(3)
    expect(m.errors.byClass).to.deep.equal({http_400: 3})
    expect(m.errors.samples.http_400).to.include('HTTP 400')
    expect(m.logs).to.deep.equal({acked: 300, failed: 300, sent: 600})
    // key = batch · workers + worker
    expect(m.failedBatches.keys).to.deep.equal([1, 2, 5])
  })

  it('uses the wall span from the earliest start to the latest end', async () => {
    const t0 = Date.parse('2025-01-01T00:00:00Z')
    const a = await workerResult({count: 2, index: 0, latencyMs: 10, logs: 1000, startMs: t0})
    const b = await workerResult({count: 2, index: 1, latencyMs: 10, logs: 1000, startMs: t0 + 5000})
    const m = aggregateMeasurements([a, b])
    expect(m.durationMs).to.equal(5000 + b.durationMs)
    expect(m.startedAt).to.equal(new Date(t0).toISOString())
    expect(aggregateMeasurements([a, b], {durationMs: 1234}).durationMs).to.equal(1234)
  })

  it('builds the parallel document: per-worker rows, averages, a failed worker counted apart', async () => {
    const a = await workerResult({count: 3, index: 0, latencyMs: 10, logs: 2000})
    const b = await workerResult({count: 3, index: 1, latencyMs: 20, logs: 2000})
    const workers = [
      workerReport(0, a, {status: 'ok'}),
      workerReport(1, b, {status: 'ok'}),
      workerReport(2, undefined, {error: 'killed by SIGKILL before reporting a result', exitCode: null, pid: 42, signal: 'SIGKILL', status: 'failed'}),
    ]
    const agg = buildAggregate('parallel', 'run-agg', workers, {interrupted: false})
    expect(agg.kind).to.equal('parallel')
    expect(agg.workersSucceeded).to.equal(2)
    expect(agg.workersFailed).to.equal(1)
    expect(agg.logs.acked).to.equal(4000)
    expect(agg.config.workers).to.equal(3)
    expect(agg.config.logsPerWorker).to.equal(2000)
    expect(agg.averagePerWorker.durationMs).to.be.closeTo((a.durationMs + b.durationMs) / 2, 0.01)
    expect(agg.averagePerWorker.logsPerSecond).to.be.closeTo((a.throughput.logsPerSecond + b.throughput.logsPerSecond) / 2, 0.1)
    expect(agg.workers[2]).to.include({error: 'killed by SIGKILL before reporting a result', pid: 42, status: 'failed'})
    expect(agg.assessment.grade).to.equal('failed')
    expect(agg.assessment.summary).to.include('1 of 3 workers failed')
  })

  it('grades throughput like the guide, and never praises a run that lost logs', () => {
    const base = {errors: {byClass: {}, samples: {}, total: 0}, interrupted: false, logs: {acked: 1, failed: 0, sent: 1}, verification: null, workers: [], workersFailed: 0}
    const at = (logsPerSecond: number) => assess({...base, throughput: {batchesPerSecond: 0, bytesPerSecond: 0, logsPerSecond}}).grade
    expect([at(150_000), at(60_000), at(20_000), at(5000)]).to.deep.equal(['excellent', 'good', 'fair', 'poor'])
    const lost = assess({
      ...base,
      throughput: {batchesPerSecond: 0, bytesPerSecond: 0, logsPerSecond: 500_000},
      verification: {acked: 1, duplicated: 0, exact: true, missing: 1, ok: false, runId: 'r', store: 's', stored: 0, unacknowledged: 0, unique: 0, waitedMs: 0},
    })
    expect(lost.grade).to.equal('failed')
    expect(lost.summary).to.include('missing')
  })
})
