/**
 * Acknowledgements per record: receivers that refuse some records of a 2xx
 * answer (OTLP partialSuccess, _bulk item statuses), ask for some again (429
 * items), or fail whole requests. What logbench calls acknowledged must be
 * exactly what was accepted, the failures must show by class, and the rows
 * stored must agree with the verification.
 */
import {expect} from 'chai'

import type {ProtocolConfig} from '../../../../src/lib/load/protocols/index.js'
import type {RunResult} from '../../../../src/lib/load/result/types.js'
import type {Store} from '../../../../src/lib/store/index.js'

import {applyChecks} from '../../../../src/lib/load/checks/checks.js'
import {openStoreCounter, verifyRun} from '../../../../src/lib/verify/verify.js'
import {runWorker} from '../../../../src/lib/load/session/worker.js'
import {backends, storeOrSkip} from '../../../helpers.js'
import {type Decision, type ReceiverOptions, startReceiver} from '../../../fixtures/receivers/receiver.js'

const LOGS = 2000
const BATCH = 250

let runs = 0
async function send(protocol: ProtocolConfig, url: string, extra: Partial<Parameters<typeof runWorker>[0]> = {}): Promise<RunResult> {
  return runWorker({
    batchSize: BATCH,
    concurrency: 2,
    logs: LOGS,
    payload: 'array',
    protocol,
    retries: 3,
    runId: `run-acks-${process.pid}-${++runs}`,
    seed: 99,
    target: new URL(url),
    timeoutMs: 10_000,
    worker: {count: 1, index: 0},
    ...extra,
  })
}

const server = backends.find((b) => b.name === 'server')!

describe('load/protocols: acknowledgements per record, verified against the stored rows', function () {
  let store: Store

  before(async function () {
    store = await storeOrSkip(this, server)
  })

  after(async () => {
    if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
    await store?.close()
  })

  const verify = async (result: RunResult) => {
    const verdict = await applyChecks(result, {batchSize: BATCH, thresholds: [], verify: async (input) => verifyRun(await openStoreCounter(store), input), workers: 1})
    return {verdict, verification: result.verification!}
  }

  const withReceiver = async (options: Omit<ReceiverOptions, 'store'>, body: (url: string, receiver: Awaited<ReturnType<typeof startReceiver>>) => Promise<void>) => {
    const receiver = await startReceiver({...options, store})
    try {
      await body(receiver.url, receiver)
    } finally {
      await receiver.stop()
    }
  }

  for (const encoding of ['protobuf', 'json'] as const) {
    it(`otlp (${encoding}): 1 in 50 records rejected through partialSuccess are failed, the rest acknowledged exactly`, async () => {
      const decide = (seq: number): Decision => (seq % 50 === 49 ? 'reject' : 'ok')
      await withReceiver({decide, protocol: 'otlp'}, async (url, receiver) => {
        const result = await send({encoding, name: 'otlp'}, `${url}/v1/logs`)
        const rejected = LOGS / 50
        expect(result.logs).to.deep.equal({acked: LOGS - rejected, failed: rejected, sent: LOGS})
        expect(result.logs.acked).to.equal(receiver.counts.accepted)
        expect(result.errors.logsByClass).to.deep.equal({partial: rejected})
        expect(result.errors.logsByKind).to.deep.equal({rejected})
        expect(result.errors.samples.partial).to.match(/^5 of 250 log records rejected: 5 log records failed validation/)
        // Records a 2xx refused are never sent again; every batch still took most of its logs.
        expect(result.retries.count).to.equal(0)
        expect(result.batches).to.deep.equal({acked: LOGS / BATCH, failed: 0, sent: LOGS / BATCH})
        const {verdict, verification} = await verify(result)
        expect(verification).to.include({acked: LOGS - rejected, duplicated: 0, missing: 0, ok: true, stored: LOGS - rejected})
        expect(verdict.failed).to.equal(false)
      })
    })
  }

  it('elasticsearch: 1 in 50 items failed with 400 and 1 in 50 answered 429, which are sent again alone and then acknowledged', async () => {
    const decide = (seq: number, attempt: number): Decision => (seq % 50 === 17 ? 'reject' : seq % 50 === 33 && attempt === 0 ? 'busy' : 'ok')
    await withReceiver({decide, protocol: 'elasticsearch'}, async (url, receiver) => {
      const result = await send({index: 'logbench', name: 'elasticsearch'}, `${url}/_bulk`)
      const rejected = LOGS / 50
      expect(result.logs).to.deep.equal({acked: LOGS - rejected, failed: rejected, sent: LOGS})
      expect(result.logs.acked).to.equal(receiver.counts.accepted)
      expect(result.errors.logsByClass).to.deep.equal({http_400: rejected})
      expect(result.errors.logsByKind).to.deep.equal({rejected})
      expect(result.errors.samples.http_400).to.match(/_bulk item 400: document_parsing_exception/)
      // One resend per batch, holding only its 429 items (5 of 250).
      expect(result.retries).to.deep.equal({byClass: {http_429: LOGS / BATCH}, count: LOGS / BATCH})
      const resends = receiver.requests.filter((r) => r.records !== BATCH)
      expect(resends.map((r) => r.records)).to.deep.equal(Array.from({length: LOGS / BATCH}, () => BATCH / 50))
      for (const [seq, times] of receiver.sent) expect(times, `seq ${seq}`).to.equal(seq % 50 === 33 ? 2 : 1)
      for (const [seq, times] of receiver.accepted) expect(times, `seq ${seq}`).to.equal(1)
      expect(receiver.accepted.has(17)).to.equal(false)
      expect(receiver.accepted.get(33)).to.equal(1)
      const {verdict, verification} = await verify(result)
      expect(verification).to.include({acked: LOGS - rejected, duplicated: 0, missing: 0, ok: true, stored: LOGS - rejected})
      expect(verdict.failed).to.equal(false)
    })
  })

  it('elasticsearch: 429 items still refused after --retries count as backpressure failures, and only they', async () => {
    const decide = (seq: number): Decision => (seq % 50 === 33 ? 'busy' : 'ok')
    await withReceiver({decide, protocol: 'elasticsearch'}, async (url, receiver) => {
      const result = await send({index: 'logbench', name: 'elasticsearch'}, `${url}/_bulk`, {logs: 500, retries: 2})
      expect(result.logs).to.deep.equal({acked: 490, failed: 10, sent: 500})
      expect(result.errors.logsByClass).to.deep.equal({http_429: 10})
      expect(result.errors.logsByKind).to.deep.equal({backpressure: 10})
      expect(result.retries.count).to.equal(4)
      expect(receiver.sent.get(33)).to.equal(3)
      const {verification} = await verify(result)
      expect(verification).to.include({acked: 490, missing: 0, stored: 490})
    })
  })

  it('whole requests follow the retry classes: 503 is retried (transport), a 400 is rejected and never retried', async () => {
    let calls = 0
    const answer = () => (++calls <= 2 ? {body: 'overloaded', headers: {'retry-after': '0'}, status: 503} : undefined)
    await withReceiver({answer, protocol: 'loki'}, async (url) => {
      const result = await send({lokiShards: 1, name: 'loki'}, `${url}/loki/api/v1/push`, {concurrency: 1, logs: 500})
      expect(result.logs).to.deep.equal({acked: 500, failed: 0, sent: 500})
      expect(result.retries.byClass).to.deep.equal({http_503: 2})
    })
    await withReceiver({answer: () => ({body: 'entry out of order', status: 400}), protocol: 'loki'}, async (url, receiver) => {
      const result = await send({lokiShards: 1, name: 'loki'}, `${url}/loki/api/v1/push`, {logs: 500})
      expect(result.logs).to.deep.equal({acked: 0, failed: 500, sent: 500})
      expect(result.errors.byClass).to.deep.equal({http_400: 2})
      expect(result.errors.logsByKind).to.deep.equal({rejected: 500})
      expect(result.errors.samples.http_400).to.equal('HTTP 400: entry out of order')
      expect(result.retries.count).to.equal(0)
      expect(receiver.requests).to.have.length(2)
    })
  })
})
