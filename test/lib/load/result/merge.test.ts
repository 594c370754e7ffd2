import {expect} from 'chai'

import {buildAggregate, workerReport} from '../../../../src/lib/load/result/aggregate.js'
import {loadResults, mergeResults, resultsIn} from '../../../../src/lib/load/result/merge.js'
import {workerResult} from '../results.js'

describe('load/merge', () => {
  it('reads run --json documents and the workers of parallel --json documents', async () => {
    const a = await workerResult({count: 2, index: 0, latencyMs: 2, logs: 300})
    const b = await workerResult({count: 2, index: 1, latencyMs: 2, logs: 300})
    expect(resultsIn('a.json', JSON.stringify(a))).to.have.length(1)
    const parallel = buildAggregate('parallel', 'run-agg', [workerReport(0, a, {status: 'ok'}), workerReport(1, b, {status: 'ok'})], {interrupted: false})
    expect(resultsIn('p.json', JSON.stringify(parallel)).map((r) => r.config.worker.index)).to.deep.equal([0, 1])
  })

  it('rejects files that are not results, with the file name', () => {
    expect(() => resultsIn('x.json', '{nope')).to.throw(/x\.json is not JSON/)
    expect(() => resultsIn('y.json', '{"a":1}')).to.throw(/y\.json is not a logbench result/)
    expect(() => resultsIn('z.json', '{"error":{"message":"cannot reach"}}')).to.throw(/z\.json holds an error/)
  })

  it('refuses the same worker result twice and an empty list', async () => {
    const a = JSON.stringify(await workerResult({count: 2, index: 0, latencyMs: 2, logs: 300}))
    let error: Error | undefined
    try {
      await loadResults(['1.json', '2.json'], async () => a)
    } catch (error_) {
      error = error_ as Error
    }

    expect(error?.message).to.match(/2\.json and 1\.json hold the same worker result/)
    try {
      await loadResults([])
      expect.fail('no error')
    } catch (error_) {
      expect((error_ as Error).message).to.include('no result files')
    }
  })

  it('merges hosts into one aggregate ordered by worker index, verifiable when they agree', async () => {
    const files = new Map([
      ['h2.json', JSON.stringify(await workerResult({count: 3, index: 2, latencyMs: 30, logs: 1000}))],
      ['h0.json', JSON.stringify(await workerResult({count: 3, index: 0, latencyMs: 10, logs: 1000}))],
      ['h1.json', JSON.stringify(await workerResult({count: 3, index: 1, latencyMs: 20, logs: 1000}))],
    ])
    const plan = mergeResults(await loadResults([...files.keys()], async (file) => files.get(file)!))
    expect(plan.result.kind).to.equal('merge')
    expect(plan.result.workers.map((w) => w.index)).to.deep.equal([0, 1, 2])
    expect(plan.result.logs.acked).to.equal(3000)
    expect(plan.result.latency.count).to.equal(30)
    expect(plan.result.latency.p50Ms).to.be.closeTo(20, 0.05)
    expect(plan.result.sources).to.deep.equal(['h2.json', 'h0.json', 'h1.json'])
    expect(plan.verifiable).to.deep.equal({batchSize: 100, workers: 3})
    expect(plan.warnings).to.deep.equal([])
  })

  it('warns about missing workers and different runs, and will not verify mixed runs', async () => {
    const one = await workerResult({count: 3, index: 0, latencyMs: 1, logs: 100})
    const partial = mergeResults([{file: 'a', result: one}])
    expect(partial.warnings[0]).to.include('1 results for a run of --worker-count 3')
    const other = await workerResult({count: 3, index: 1, latencyMs: 1, logs: 100, runId: 'run-other'})
    const mixed = mergeResults([
      {file: 'a', result: one},
      {file: 'b', result: other},
    ])
    expect(mixed.verifiable).to.equal(undefined)
    expect(mixed.verifyNote).to.include('different run ids')
    expect(mixed.warnings[0]).to.include('2 different runs')
  })
})
