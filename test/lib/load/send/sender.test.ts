import {expect} from 'chai'

import {backoffMs} from '../../../../src/lib/load/send/backoff.js'
import {sendLoad, type SenderOptions} from '../../../../src/lib/load/send/sender.js'
import {parseRetryAfter} from '../../../../src/lib/load/protocols/ack.js'
import {summarize} from '../../../../src/lib/load/measure/histogram.js'
import {LogSynth} from '../../../../src/lib/load/generate/synth.js'
import {undiciTransport} from '../../../../src/lib/load/send/transport.js'
import {FakeClock, networkError, ok, scriptedTransport} from '../fakes.js'
import {parseLogs, startSink} from '../sink.js'
import {deferred} from '../../../helpers.js'

function base(overrides: Partial<SenderOptions> & Pick<SenderOptions, 'transport'>): SenderOptions {
  return {
    batchSize: 100,
    clock: new FakeClock(),
    concurrency: 4,
    logs: 1000,
    payload: 'array',
    random: () => 0.5,
    retries: 5,
    synth: new LogSynth({runId: 'run-test', seed: 1}),
    worker: {count: 1, index: 0},
    ...overrides,
  }
}

describe('load/sender', () => {
  it('ends an open-model --duration run on time when the target is too slow for the rate', async () => {
    const clock = new FakeClock()
    // Every answer takes 200 ms: one at a time, 5 batches a second where 20 were asked for.
    const transport = scriptedTransport(() => {
      clock.advance(200)
      return ok()
    })
    const outcome = await sendLoad(base({batchSize: 100, clock, durationMs: 3000, logs: undefined, maxInFlight: 1, rate: 2000, transport}))
    expect(outcome.batches.sent).to.be.within(14, 16)
    expect(clock.now()).to.be.at.most(3200)
    expect(outcome.logs.acked).to.equal(outcome.logs.sent)
  })

  it('sends exactly the planned logs in batches, the last one short, each with a distinct Idempotency-Key', async () => {
    const transport = scriptedTransport(() => ok())
    const outcome = await sendLoad(base({batchSize: 1000, logs: 10_500, transport}))
    expect(outcome.logs).to.deep.equal({acked: 10_500, failed: 0, sent: 10_500})
    expect(outcome.batches).to.deep.equal({acked: 11, failed: 0, sent: 11})
    expect(transport.requests).to.have.length(11)
    const sizes = transport.requests.map((request) => parseLogs(Buffer.from(request.body)).length)
    expect(sizes.filter((size) => size === 1000)).to.have.length(10)
    expect(sizes).to.include(500)
    const keys = transport.requests.map((request) => request.headers['idempotency-key'])
    expect(new Set(keys).size).to.equal(11)
    expect(keys.filter((key) => /^run-test-[0-9a-f]{8}-w0-b10$/.test(key))).to.have.length(1)
    // One invocation nonce for all the batches of a run, so a re-run with the same run id gets new keys.
    expect(new Set(keys.map((key) => key.split('-')[2])).size).to.equal(1)
    expect(transport.requests[0].headers['content-type']).to.equal('application/json')
    expect(summarize(outcome.latency).count).to.equal(11)
    expect(outcome.stopReason).to.equal('completed')
  })

  it('gives worker k of N the seqs k, k+N, k+2N, ...', async () => {
    const transport = scriptedTransport(() => ok())
    await sendLoad(base({batchSize: 10, logs: 25, transport, worker: {count: 3, index: 2}}))
    const seqs = transport.requests.flatMap((request) => parseLogs(Buffer.from(request.body)).map((log) => (log.metadata as {seq: number}).seq))
    expect(seqs.sort((a, b) => a - b)).to.deep.equal(Array.from({length: 25}, (_, i) => i * 3 + 2))
  })

  it('retries 503 honouring Retry-After, resends the same body and key, and counts the ack once', async () => {
    const clock = new FakeClock()
    const transport = scriptedTransport((request) =>
      request.headers['idempotency-key'].endsWith('-b3') && request.attempt < 2 ? {headers: {'retry-after': '2'}, statusCode: 503} : ok(),
    )
    const outcome = await sendLoad(base({clock, logs: 500, transport}))
    expect(outcome.logs).to.deep.equal({acked: 500, failed: 0, sent: 500})
    expect(outcome.retries).to.deep.equal({byClass: {http_503: 2}, count: 2})
    expect(outcome.errors.total).to.equal(0)
    const tries = transport.requests.filter((request) => /^run-test-[0-9a-f]{8}-w0-b3$/.test(request.headers['idempotency-key']))
    expect(tries).to.have.length(3)
    expect(Buffer.from(tries[2].body).equals(Buffer.from(tries[0].body))).to.equal(true)
    expect(clock.sleeps.filter((ms) => ms >= 2000)).to.have.length(2)
    expect(Math.max(...clock.sleeps)).to.be.lessThan(2000 + 250)
    // Latency runs from the first send to the final ack: it includes the back-offs.
    expect(summarize(outcome.latency).maxMs).to.be.greaterThan(4000)
  })

  it('retries network errors with exponential back-off and gives up after --retries', async () => {
    const clock = new FakeClock()
    const transport = scriptedTransport((request) => (request.headers['idempotency-key'].endsWith('-b0') ? networkError('ECONNRESET') : ok()))
    const outcome = await sendLoad(base({clock, logs: 300, retries: 3, retryBaseMs: 100, transport}))
    expect(outcome.logs).to.deep.equal({acked: 200, failed: 100, sent: 300})
    expect(outcome.retries.count).to.equal(3)
    expect(outcome.errors).to.deep.equal({byClass: {reset: 1}, logsByClass: {reset: 100}, total: 1})
    expect(outcome.errorSamples.reset).to.include('ECONNRESET')
    expect(outcome.failedBatches).to.deep.equal([0])
    // random() = 0.5: half of 100, 200, 400.
    expect(clock.sleeps).to.deep.equal([50, 100, 200])
  })

  it('does not retry a 400, and keeps a sample of the answer', async () => {
    const transport = scriptedTransport(() => ({body: '{"error":"entry 3: level is not one of debug, info"}', statusCode: 400}))
    const outcome = await sendLoad(base({logs: 200, transport}))
    expect(outcome.logs).to.deep.equal({acked: 0, failed: 200, sent: 200})
    expect(outcome.retries.count).to.equal(0)
    expect(outcome.errors.byClass).to.deep.equal({http_400: 2})
    expect(outcome.errorSamples.http_400).to.equal('HTTP 400: {"error":"entry 3: level is not one of debug, info"}')
    expect(transport.requests).to.have.length(2)
  })

  it('treats an acknowledgement of fewer logs than sent as a failure, never retried', async () => {
    const transport = scriptedTransport((request) => (request.headers['idempotency-key'].endsWith('-b1') ? ok(99) : ok(100)))
    const outcome = await sendLoad(base({logs: 300, transport}))
    expect(outcome.logs).to.deep.equal({acked: 200, failed: 100, sent: 300})
    expect(outcome.errors.byClass).to.deep.equal({partial: 1})
    expect(transport.requests).to.have.length(3)
  })

  it('stops at once when the target refuses connections before anything was acknowledged', async () => {
    const transport = scriptedTransport(() => networkError('ECONNREFUSED'))
    const outcome = await sendLoad(base({concurrency: 1, logs: 100_000, retries: 2, transport}))
    expect(outcome.stopReason).to.equal('unreachable')
    expect(outcome.batches.sent).to.equal(1)
    expect(transport.requests).to.have.length(3)
  })

  it('stops taking batches on abort, lets the in-flight ones finish, and reports them', async () => {
    const controller = new AbortController()
    let answered = 0
    const transport = scriptedTransport(async () => {
      answered++
      if (answered === 20) controller.abort()
      await new Promise((resolve) => setImmediate(resolve))
      return ok()
    })
    const outcome = await sendLoad(base({concurrency: 4, logs: 100_000, signal: controller.signal, transport}))
    expect(outcome.stopReason).to.equal('interrupted')
    expect(outcome.batches.sent).to.be.within(20, 24)
    expect(outcome.batches.acked).to.equal(outcome.batches.sent)
    expect(outcome.logs.failed).to.equal(0)
  })

  it('cancels pending back-offs on abort and counts those batches as interrupted', async () => {
    const controller = new AbortController()
    const clock = new FakeClock()
    clock.sleep = async (ms) => {
      clock.sleeps.push(ms)
      controller.abort()
    }

    const transport = scriptedTransport(() => ({statusCode: 503}))
    const outcome = await sendLoad(base({clock, concurrency: 1, logs: 1000, signal: controller.signal, transport}))
    expect(outcome.stopReason).to.equal('interrupted')
    expect(outcome.errors.byClass).to.deep.equal({interrupted: 1})
    expect(outcome.batches).to.deep.equal({acked: 0, failed: 1, sent: 1})
  })

  it('runs for a duration in the closed model', async () => {
    const clock = new FakeClock()
    const transport = scriptedTransport(() => {
      clock.advance(10)
      return ok()
    })
    const outcome = await sendLoad(base({clock, concurrency: 1, durationMs: 1000, logs: undefined, transport}))
    expect(outcome.batches.sent).to.equal(100)
    expect(outcome.durationMs).to.equal(1000)
  })

  it('closed model: a batch waits for its answer only while the event loop sits idle; the busy part is the sender\'s own', async () => {
    // Each answer takes 10 ms, 6 of them with the loop idle (waiting on the network) and 4 busy (the
    // sender's own work, or a neighbour's while the loop was in it): 6 ms a batch count as waiting for answers.
    const run = async (idle: boolean) => {
      const clock = Object.assign(new FakeClock(), {idled: 0})
      if (idle) Object.assign(clock, {idleMs: () => clock.idled})
      const transport = scriptedTransport(() => {
        clock.advance(10)
        clock.idled += 6
        return ok()
      })
      const waits = {answers: [] as number[], generator: [] as number[]}
      const intervals = {acked() {}, answered() {}, answerWaited: (ms: number) => waits.answers.push(ms), batchFailed() {}, failed() {}, generatorWaited: (ms: number) => waits.generator.push(ms), retried() {}, sent() {}}
      await sendLoad(base({batchSize: 100, clock, concurrency: 1, intervals, logs: 2000, transport}))
      return waits
    }

    const measured = await run(true)
    expect(measured.answers).to.deep.equal(Array.from({length: 20}, () => 6))
    // Batches are built on a clock that does not move: no slot waited for the generator.
    expect(measured.generator).to.deep.equal(Array.from({length: 20}, () => 0))
    // A clock that cannot tell idle from busy counts the whole wait as the target's.
    expect((await run(false)).answers).to.deep.equal(Array.from({length: 20}, () => 10))
  })

  it('schedules batches at the target rate in the open model and reports it', async () => {
    const clock = new FakeClock()
    const transport = scriptedTransport(() => ok())
    const outcome = await sendLoad(base({batchSize: 100, clock, durationMs: 2000, logs: undefined, rate: 5000, transport}))
    // 50 batches a second for 2 s.
    expect(outcome.batches.sent).to.equal(100)
    expect(outcome.rate).to.deep.equal({targetLogsPerSecond: 5000})
    expect(clock.sleeps.filter((ms) => ms > 0).every((ms) => Math.abs(ms - 20) < 1e-9)).to.equal(true)
  })

  it('reports progress snapshots', async () => {
    // From batch 10 on, answers wait until a snapshot has been taken: one comes while the run is half done.
    const snapshots: number[] = []
    const ticked = deferred()
    const transport = scriptedTransport(async (request) => {
      if (Number(request.headers['idempotency-key'].split('-b').at(-1)) >= 10) await ticked.promise
      return ok()
    })
    await sendLoad(base({
      logs: 5000,
      onProgress(snapshot) {
        snapshots.push(snapshot.logs.acked)
        ticked.resolve()
      },
      progressIntervalMs: 20,
      transport,
    }))
    // The first while batches 10 to 13 were held (batches 0 to 9 answered), the last with every log.
    expect(snapshots[0]).to.equal(1000)
    expect(snapshots.length).to.be.greaterThan(1)
    expect(snapshots.at(-1)).to.equal(5000)
    expect([...snapshots].sort((a, b) => a - b)).to.deep.equal(snapshots)
  })

  it('measures from the intended send time: a 1 s stall shows in p99, not only in one request', async () => {
    // 20 batches a second for 3 s, one request at a time; the 10th answer (batch 9, due at 450 ms) takes 1 s.
    const clock = new FakeClock()
    const transport = scriptedTransport((request) => {
      if (request.headers['idempotency-key'].endsWith('-b9')) clock.advance(1000)
      return ok()
    })
    const outcome = await sendLoad(base({batchSize: 100, clock, durationMs: 3000, logs: undefined, maxInFlight: 1, rate: 2000, transport}))
    const intended = summarize(outcome.latency)
    const service = summarize(outcome.service)
    expect(outcome.batches).to.deep.equal({acked: 60, failed: 0, sent: 60})
    // (On this clock an answer arrives when the sender next sleeps: 50 ms, one schedule step, for a batch on time.)
    // Only one request was slow...
    expect(service.maxMs).to.be.closeTo(1000, 1)
    expect(service.p90Ms).to.be.closeTo(50, 0.1)
    // ...but the 19 batches due during the stall (500 ms to 1.4 s) went late: 950 ms down to 50 ms.
    expect(intended.maxMs).to.be.closeTo(1000, 1)
    expect(intended.p90Ms).to.be.closeTo(700, 1)
    expect(intended.p50Ms).to.be.closeTo(50, 0.1)
    expect(outcome.latency.totalCount).to.equal(60)
  })

  it('reads Retry-After as seconds or a date, and caps the back-off', () => {
    const now = Date.parse('2025-01-01T00:00:00Z')
    expect(parseRetryAfter('3', now)).to.equal(3000)
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).to.equal(5000)
    expect(parseRetryAfter('soon', now)).to.equal(undefined)
    expect(parseRetryAfter(undefined, now)).to.equal(undefined)
    const opts = {baseMs: 100, capMs: 5000, retryAfterCapMs: 60_000}
    expect(backoffMs(10, undefined, () => 0.999, opts)).to.be.lessThan(5000)
    expect(backoffMs(0, 3_600_000, () => 0, opts)).to.equal(60_000)
    expect(backoffMs(0, 1000, () => 1, opts)).to.be.within(1000, 1100)
  })
})

describe('load/sender over HTTP (undici pool against a local endpoint)', () => {
  it('delivers every log once to a real endpoint, with keep-alive connections', async () => {
    const sink = await startSink()
    const transport = undiciTransport({connections: 4, timeoutMs: 10_000, url: new URL(sink.url)})
    try {
      const outcome = await sendLoad(base({batchSize: 1000, clock: undefined, logs: 20_000, payload: 'ndjson', transport}))
      expect(outcome.logs).to.deep.equal({acked: 20_000, failed: 0, sent: 20_000})
      expect(sink.ackedLogs).to.equal(20_000)
      expect(new Set(sink.seqs).size).to.equal(20_000)
      expect(new Set(sink.keys).size).to.equal(20)
    } finally {
      await transport.close()
      await sink.stop()
    }
  })

  it('recovers from 503 + Retry-After and dropped connections without double counting', async () => {
    const sink = await startSink({
      answer(request, logs) {
        if (request.index % 5 === 1) return {headers: {'retry-after': '0'}, status: 503}
        if (request.index % 7 === 3) return 'drop'
        return {body: JSON.stringify({accepted: logs}), status: 202}
      },
    })
    const transport = undiciTransport({connections: 2, timeoutMs: 10_000, url: new URL(sink.url)})
    try {
      const outcome = await sendLoad(base({batchSize: 500, clock: undefined, logs: 10_000, retryBaseMs: 1, transport}))
      expect(outcome.logs.acked).to.equal(10_000)
      expect(outcome.retries.count).to.be.greaterThan(0)
      expect(Object.keys(outcome.retries.byClass).sort()).to.deep.equal(['http_503', 'reset'])
      expect(sink.ackedLogs).to.equal(10_000)
      expect(new Set(sink.seqs).size).to.equal(10_000)
    } finally {
      await transport.close()
      await sink.stop()
    }
  })

})
