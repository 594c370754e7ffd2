import {expect} from 'chai'

import {openStoreCounter, parseVerifyInput, type RunCounter, verificationQuery, verifyRun} from '../../../src/lib/verify/verify.js'
import {type LogRow, makeRowEncoder, profileSql, type Store} from '../../../src/lib/store/index.js'
import {backends, storeOrSkip} from '../../helpers.js'
import {FakeClock} from '../load/fakes.js'

const WORKERS = 2
const BATCH = 10

/** The seqs of batch b of worker k: index i in [b·BATCH, (b+1)·BATCH), seq = i·WORKERS + k. */
function batchSeqs(worker: number, batch: number): number[] {
  return Array.from({length: BATCH}, (_, j) => (batch * BATCH + j) * WORKERS + worker)
}

function rows(runId: string, seqs: number[]): LogRow[] {
  const now = Date.now()
  return seqs.map((seq) => ({
    app_id: 'app',
    batch_id: '',
    created_at: now,
    level: 'info',
    message: `log ${seq}`,
    metadata: JSON.stringify({run_id: runId, seq}),
    run_id: runId,
    seq,
    source: '',
    timestamp: now,
  }))
}

for (const backend of backends) {
  describe(`load/verify on the ${backend.name} back end`, function () {
    let store: Store | undefined
    let counter: RunCounter

    const insert = async (runId: string, seqs: number[]) => {
      const encode = makeRowEncoder(store!.info.capabilities)
      await store!.insert(rows(runId, seqs).map((row) => encode(row)).join(''))
    }

    before(async function () {
      store = await storeOrSkip(this, backend)
      await store.ensureSchema()
      counter = await openStoreCounter(store)
    })

    after(async () => {
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    it('counts only the batches the results sent, so other rows of the run id cannot hide a missing log', async () => {
      // Worker 0 sent 2 batches (20 logs acknowledged) but only its first batch is stored; worker 1
      // died before reporting (or ran earlier with the same id) and left 3 batches of rows.
      await insert('run-cover', batchSeqs(0, 0))
      for (let batch = 0; batch < 3; batch++) await insert('run-cover', batchSeqs(1, batch))
      const input = {acked: 20, batchSize: BATCH, failedKeys: [], failedKeysComplete: true, runId: 'run-cover', workers: WORKERS}
      const covered = await verifyRun(counter, {...input, sentBatches: [2, 0]})
      expect(covered).to.deep.include({missing: 10, ok: false, outside: 30, stored: 10, unique: 10})
      // Counting every row of the run id, as before, the 30 foreign rows hide the 10 missing ones.
      const everything = await verifyRun(counter, input)
      expect(everything.missing).to.equal(0)
    })

    it('counts stored, missing and duplicated logs of a run exactly, apart from batches that were not acknowledged', async () => {
      // Worker 0 and 1 sent 3 batches each; batch 2 of worker 1 failed (key 2·2+1 = 5) but landed anyway.
      const seqs: number[] = []
      for (let worker = 0; worker < WORKERS; worker++) for (let batch = 0; batch < 3; batch++) seqs.push(...batchSeqs(worker, batch))
      const lost = batchSeqs(0, 1).slice(0, 3)
      const stored = seqs.filter((seq) => !lost.includes(seq))
      await insert('run-verify', stored)
      await insert('run-verify', batchSeqs(0, 0).slice(0, 2))
      await insert('run-other', seqs)
      const v = await verifyRun(counter, {acked: 50, batchSize: BATCH, failedKeys: [5], failedKeysComplete: true, runId: 'run-verify', workers: WORKERS})
      expect(v).to.deep.include({
        acked: 50,
        duplicated: 2,
        exact: true,
        missing: 3,
        ok: false,
        runId: 'run-verify',
        stored: 59,
        unacknowledged: 10,
        unique: 57,
        waitedMs: 0,
      })
      expect(v.store).to.include(store!.info.database)
    })

    it('reports a complete run as ok, and a run with no rows as all missing', async () => {
      await insert('run-complete', [0, 1, 2, 3])
      const ok = await verifyRun(counter, {acked: 4, batchSize: BATCH, failedKeys: [], failedKeysComplete: true, runId: 'run-complete', workers: 1})
      expect(ok).to.deep.include({duplicated: 0, missing: 0, ok: true, stored: 4})
      const none = await verifyRun(counter, {acked: 7, batchSize: BATCH, failedKeys: [], failedKeysComplete: false, runId: 'run-never', workers: 1})
      expect(none).to.deep.include({exact: false, missing: 7, ok: false, stored: 0})
    })

    /** A clock that stands still while counting, and whose n-th sleep lands the late rows first. */
    const lateClock = (landOnSleep: number, land: () => Promise<void>) => {
      const clock = new FakeClock()
      clock.sleep = async (ms) => {
        clock.sleeps.push(ms)
        clock.advance(ms)
        if (clock.sleeps.length === landOnSleep) await land()
      }

      return clock
    }

    it('waits for rows that land late when asked to, and says how long it waited', async () => {
      await insert('run-late', [0, 1])
      const clock = lateClock(2, () => insert('run-late', [2, 3]))
      const input = {acked: 4, batchSize: BATCH, failedKeys: [], failedKeysComplete: true, runId: 'run-late', workers: 1}
      const v = await verifyRun(counter, input, {clock, pollMs: 100, waitMs: 10_000})
      expect(v).to.deep.include({missing: 0, ok: true, stored: 4, waitedMs: 200})
      expect(clock.sleeps).to.deep.equal([100, 100])
      // It gives up after waitMs, and the logs still missing are reported.
      const gaveUp = await verifyRun(counter, {...input, acked: 6}, {clock: lateClock(99, async () => {}), pollMs: 100, waitMs: 250})
      expect(gaveUp).to.deep.include({missing: 2, ok: false, readBackDelayMs: null, stored: 4, waitedMs: 250})
    })

    it('never puts the run id into the SQL text', async () => {
      const profile = await profileSql(store!)
      const sql = verificationQuery(store!.tableRef, profile, {failedKeys: [1]}, store!.info.capabilities)
      expect(sql).to.include('{runId:String}')
      expect(sql).to.include('{failed:Array(UInt64)}')
      expect(verificationQuery(store!.tableRef, profile, {failedKeys: []}, store!.info.capabilities)).not.to.include('failed')
    })

    it('counts distinct seqs in a bitmap where the server has groupBitmap, in hash sets where it has not, with the same counts', async () => {
      // Seqs 0-9 of 2 workers in batches of 5: worker 0 sent 1 batch (seqs 0-8 even), worker 1 sent 1 (1-9 odd);
      // seq 2 stored twice, seq 10 (batch 1 of worker 0, not sent by these results) stored too; batch 0 of worker 1 failed.
      await insert('run-both', [0, 2, 2, 4, 6, 8, 1, 3, 10])
      const profile = await profileSql(store!)
      const input = {failedKeys: [1], sentBatches: [1, 1]}
      const params = {batch: 5, failed: [1], runId: 'run-both', sent: [1, 1], workers: 2}
      const answers = []
      for (const groupBitmap of store!.info.capabilities.groupBitmap ? [true, false] : [false]) {
        const sql = verificationQuery(store!.tableRef, profile, input, {groupBitmap})
        expect(sql).to.include(groupBitmap ? 'groupBitmap' : 'uniqExact')
        expect(sql).not.to.include(groupBitmap ? 'uniqExact' : 'groupBitmap')
        const [row] = await store!.query<Record<string, number>>(sql, params)
        answers.push(Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)])))
      }

      for (const answer of answers) expect(answer).to.deep.equal({all_unique: 8, stored: 8, unacked: 2, unique: 7})
    })

    it('measures the read-back delay from the last acknowledgement to the count that found every log', async () => {
      await insert('run-delay', [0, 1])
      // The rows land during the third wait: the fourth count, 150 ms after the first, finds them.
      const clock = lateClock(3, () => insert('run-delay', [2, 3]))
      const lastAckAtMs = clock.wallNow() - 40
      const input = {acked: 4, batchSize: BATCH, failedKeys: [], failedKeysComplete: true, lastAckAtMs, runId: 'run-delay', workers: 1}
      const v = await verifyRun(counter, input, {clock, pollMs: 50, waitMs: 10_000})
      expect(v).to.deep.include({missing: 0, ok: true, pollMs: 50, readBackDelayMs: 190, waitedMs: 150})
      // Without waiting, the same shortfall is missing logs and no delay.
      await insert('run-delay-2', [0])
      const early = await verifyRun(counter, {...input, runId: 'run-delay-2'})
      expect(early).to.deep.include({missing: 3, readBackDelayMs: null})
    })
  })
}

describe('load/verify: the verification request serve answers', () => {
  it('takes a well-formed input and refuses anything else', () => {
    const input = {acked: 10, batchSize: 5, failedKeys: [1], failedKeysComplete: true, runId: 'run-1', sentBatches: [2], workers: 1}
    expect(parseVerifyInput(input)).to.deep.equal(input)
    for (const bad of [null, 'x', {...input, runId: "x' OR 1"}, {...input, acked: -1}, {...input, workers: 0}, {...input, failedKeys: ['1']}, {...input, sentBatches: [1.5]}]) {
      expect(() => parseVerifyInput(bad), JSON.stringify(bad)).to.throw(TypeError)
    }
  })
})
