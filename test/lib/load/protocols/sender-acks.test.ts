/** The sender's accounting of per-record acknowledgements, with a scripted transport and a fake clock. */
import {expect} from 'chai'

import {bulkEncoder} from '../../../../src/lib/load/protocols/elasticsearch.js'
import {otlpEncoder} from '../../../../src/lib/load/protocols/otlp.js'
import {sendLoad, type SenderOptions} from '../../../../src/lib/load/send/sender.js'
import {LogSynth} from '../../../../src/lib/load/generate/synth.js'
import {FakeClock, scriptedTransport, type SentRequest} from '../fakes.js'

const synth = new LogSynth({runId: 'run-acks', seed: 1})

function base(overrides: Partial<SenderOptions> & Pick<SenderOptions, 'transport'>): SenderOptions {
  return {batchSize: 10, clock: new FakeClock(), concurrency: 1, logs: 30, payload: 'array', random: () => 0.5, retries: 3, synth, worker: {count: 1, index: 0}, ...overrides}
}

/** A _bulk answer with one status per document of the request. */
function bulkAnswer(request: SentRequest, status: (position: number) => number) {
  const documents = request.body.toString().split('\n').filter(Boolean).length / 2
  const items = Array.from({length: documents}, (_, i) => ({create: {status: status(i), ...(status(i) >= 300 ? {error: {reason: 'no', type: 'x'}} : {})}}))
  return {body: JSON.stringify({errors: items.some((item) => item.create.status >= 300), items}), statusCode: 200}
}

describe('load/sender: acknowledgements per record', () => {
  it('a batch none of whose records was taken is a failed batch (for verification), one with some taken is acknowledged', async () => {
    // Batch 0: every item 400. Batch 1: item 0 400, the rest 201. Batch 2: all 201.
    const transport = scriptedTransport((request) => {
      const batch = Number(request.headers['idempotency-key'].split('-b').at(-1))
      return bulkAnswer(request, (i) => (batch === 0 || (batch === 1 && i === 0) ? 400 : 201))
    })
    const outcome = await sendLoad(base({encoder: bulkEncoder(synth), transport}))
    expect(outcome.logs).to.deep.equal({acked: 19, failed: 11, sent: 30})
    expect(outcome.batches).to.deep.equal({acked: 2, failed: 1, sent: 3})
    expect(outcome.failedBatches).to.deep.equal([0])
    expect(outcome.errors).to.deep.equal({byClass: {http_400: 1}, logsByClass: {http_400: 11}, total: 1})
    expect(outcome.latency.totalCount).to.equal(2)
  })

  it('sends 429 items again alone with back-off, and counts them failed (backpressure) once --retries is spent', async () => {
    const clock = new FakeClock()
    const transport = scriptedTransport((request) => bulkAnswer(request, (i) => (request.headers['idempotency-key'].endsWith('-b0') ? (i < 3 ? 429 : 201) : 429)))
    const outcome = await sendLoad(base({clock, encoder: bulkEncoder(synth), logs: 10, retries: 2, transport}))
    expect(transport.requests.map((r) => r.body.toString().split('\n').filter(Boolean).length / 2)).to.deep.equal([10, 3, 3])
    // The resends carry exactly the refused documents (seqs 0, 1, 2), in the same bytes as the first time.
    const firstDocs = transport.requests[0].body.toString().split('\n').slice(0, 6).join('\n')
    expect(transport.requests[1].body.toString().trimEnd()).to.equal(firstDocs)
    expect(transport.requests.map((r) => r.headers['idempotency-key'].split('-').slice(-2).join('-'))).to.deep.equal(['w0-b0', 'b0-r1', 'b0-r2'])
    expect(outcome.logs).to.deep.equal({acked: 7, failed: 3, sent: 10})
    expect(outcome.retries).to.deep.equal({byClass: {http_429: 2}, count: 2})
    expect(outcome.errors.logsByClass).to.deep.equal({http_429: 3})
    expect(outcome.batches.acked).to.equal(1)
    expect(clock.sleeps).to.have.length(2)
    expect(outcome.bytesSent).to.equal(transport.requests.reduce((sum, r) => sum + r.body.length, 0))
  })

  it('reads partialSuccess from an OTLP answer in protobuf and in JSON, and an empty 200 as all taken', async () => {
    const partial = Buffer.from([0x0a, 0x07, 0x08, 0x04, 0x12, 0x03, 0x62, 0x61, 0x64]) // partial_success {rejected_log_records: 4, error_message: "bad"}
    const answers = [
      {body: partial.toString('latin1'), bytes: partial, headers: {'content-type': 'application/x-protobuf'}, statusCode: 200},
      {body: '{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}}', headers: {'content-type': 'application/json'}, statusCode: 200},
      {body: '', headers: {}, statusCode: 200},
    ]
    let n = 0
    const transport = scriptedTransport(() => answers[n++])
    const outcome = await sendLoad(base({encoder: otlpEncoder(synth, 'protobuf'), transport}))
    expect(outcome.logs).to.deep.equal({acked: 24, failed: 6, sent: 30})
    expect(outcome.errors.logsByClass).to.deep.equal({partial: 6})
    expect(outcome.errorSamples.partial).to.equal('4 of 10 log records rejected: bad')
    expect(outcome.batches).to.deep.equal({acked: 3, failed: 0, sent: 3})
  })
})

describe('load/aggregate: the assessment of a run whose records were refused one by one', () => {
  it('names the refused logs when no whole batch failed, and keeps the excellent grade for a clean run only', async () => {
    const {assess} = await import('../../../../src/lib/load/result/aggregate.js')
    const run = (failed: number) =>
      assess({
        errors: {byClass: {}, logsByClass: failed ? {partial: failed} : {}, samples: {}, total: 0},
        interrupted: false,
        logs: {acked: 1_000_000 - failed, failed, sent: 1_000_000},
        throughput: {batchesPerSecond: 150, bytesPerSecond: 1, logsPerSecond: 150_000},
        verification: null,
        workers: [],
        workersFailed: 0,
      })
    expect(run(0)).to.deep.include({grade: 'excellent'})
    expect(run(20_000)).to.deep.equal({grade: 'good', summary: '150,000 logs/s: solid ingest throughput (20,000 logs refused)'})
  })
})
