import {expect} from 'chai'

import {Batcher, type BatcherClock, type BatcherOptions, DEFAULT_BATCHER_OPTIONS} from '../../../src/lib/ingest/batcher.js'

interface Call {
  chunks: string[]
  rows: number
  finish: (error?: Error) => void
}

/** Time that moves only when the test says: advance() runs the callbacks that fall due, in order. */
class ManualClock implements BatcherClock {
  private at = 0
  private readonly pending: {due: number; fn: () => void; cancelled: boolean}[] = []

  now = () => this.at

  later(fn: () => void, ms: number): () => void {
    const entry = {cancelled: false, due: this.at + ms, fn}
    this.pending.push(entry)
    return () => (entry.cancelled = true)
  }

  advance(ms: number): void {
    const end = this.at + ms
    for (;;) {
      const due = this.pending.filter((entry) => !entry.cancelled && entry.due <= end).sort((a, b) => a.due - b.due)[0]
      if (!due) break
      this.pending.splice(this.pending.indexOf(due), 1)
      this.at = due.due
      due.fn()
    }

    this.at = end
  }
}

function harness(options: Partial<BatcherOptions> = {}) {
  const calls: Call[] = []
  const clock = new ManualClock()
  const batcher = new Batcher(
    (chunks, info) =>
      new Promise<void>((resolve, reject) => {
        calls.push({chunks, finish: (error) => (error ? reject(error) : resolve()), rows: info.rows})
      }),
    // Lingering has its own tests below; the others see the slot used at once.
    {...DEFAULT_BATCHER_OPTIONS, lingerMs: 0, ...options},
    undefined,
    clock,
  )
  return {batcher, calls, clock}
}

/** Lets a finished insert settle (its promise callbacks run). */
const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('group-commit batcher', () => {
  it('writes at once when idle, then merges what arrives meanwhile into one insert', async () => {
    const {batcher, calls} = harness({insertConcurrency: 1})
    const first = batcher.offer(Buffer.from('a\n'), 1)
    expect(calls).to.have.length(1)
    const rest = ['b\n', 'c\n', 'd\n'].map((row) => batcher.offer(Buffer.from(row), 1))
    expect(calls).to.have.length(1)
    calls[0].finish()
    await tick()
    expect(calls).to.have.length(2)
    expect(Buffer.concat(calls[1].chunks).toString()).to.equal('b\nc\nd\n')
    calls[1].finish()
    for (const offer of [first, ...rest]) {
      expect(offer.ok).to.equal(true)
      if (offer.ok) await offer.committed
    }
  })

  it('fails exactly the requests an insert carried', async () => {
    const {batcher, calls} = harness({insertConcurrency: 1})
    const settled = Promise.allSettled(
      [batcher.offer(Buffer.from('a\n'), 1), batcher.offer(Buffer.from('b\n'), 1)].map((offer) => (offer.ok ? offer.committed : Promise.reject(new Error('refused')))),
    )
    calls[0].finish(new Error('boom'))
    await tick()
    calls[1].finish()
    const outcomes = await settled
    expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(['rejected', 'fulfilled'])
  })

  it('bounds rows per insert', async () => {
    const {batcher, calls} = harness({insertConcurrency: 1, maxBatchRows: 3})
    batcher.offer(Buffer.from('x\n'), 1)
    for (let i = 0; i < 5; i++) batcher.offer(Buffer.from('y\n'), 1)
    calls[0].finish()
    await tick()
    expect(calls[1].rows).to.equal(3)
    calls[1].finish()
    await tick()
    expect(calls[2].rows).to.equal(2)
  })

  it('starts a second concurrent insert only for a batch worth it', async () => {
    const {batcher, calls} = harness({insertConcurrency: 2, maxWaitMs: 10_000, parallelFlushRows: 5})
    batcher.offer(Buffer.from('a\n'), 1)
    batcher.offer(Buffer.from('b\n'), 1)
    expect(calls).to.have.length(1)
    batcher.offer(Buffer.from('c\n'), 4)
    expect(calls).to.have.length(2)
    expect(calls[1].rows).to.equal(5)
  })

  it('refuses when the buffer is full and takes rows again once it drains', async () => {
    const {batcher, calls} = harness({insertConcurrency: 1, maxBufferRows: 10})
    expect(batcher.offer(Buffer.from('a\n'), 6).ok).to.equal(true)
    expect(batcher.offer(Buffer.from('b\n'), 4).ok).to.equal(true)
    const refused = batcher.offer(Buffer.from('c\n'), 1)
    expect(refused).to.deep.equal({ok: false, reason: 'full'})
    calls[0].finish()
    await tick()
    expect(batcher.offer(Buffer.from('c\n'), 1).ok).to.equal(true)
    expect(batcher.state.rows).to.equal(5)
  })

  it('drain flushes everything, waits for it, then refuses new rows', async () => {
    const {batcher, calls} = harness({insertConcurrency: 1})
    const a = batcher.offer(Buffer.from('a\n'), 1)
    batcher.offer(Buffer.from('b\n'), 1)
    const drained = batcher.drain()
    calls[0].finish()
    await tick()
    calls[1].finish()
    await drained
    if (a.ok) await a.committed
    expect(batcher.state.rows).to.equal(0)
    expect(batcher.offer(Buffer.from('c\n'), 1)).to.deep.equal({ok: false, reason: 'closed'})
  })

  describe('lingering under load', () => {
    it('sends a request that arrives alone at once', async () => {
      const {batcher, calls, clock} = harness({insertConcurrency: 1, lingerMs: 1000})
      batcher.offer(Buffer.from('a\n'), 1)
      expect(calls).to.have.length(1)
      calls[0].finish()
      await tick()
      clock.advance(2000)
      // Another lone request, well after the first.
      batcher.offer(Buffer.from('b\n'), 1)
      expect(calls).to.have.length(2)
    })

    it('lets a free slot wait until the rows that were in flight are back, then sends them in one insert', async () => {
      const {batcher, calls, clock} = harness({insertConcurrency: 1, lingerMs: 5000})
      // Five clients, 10 rows each: one insert runs, four requests wait for it.
      batcher.offer(Buffer.from('a\n'), 10)
      for (const row of ['b\n', 'c\n', 'd\n', 'e\n']) batcher.offer(Buffer.from(row), 10)
      calls[0].finish()
      await tick()
      expect(calls, 'the slot lingers: 40 of the 50 rows in flight are waiting').to.have.length(1)
      clock.advance(20)
      // The client answered sends again: all 50 are waiting, the slot goes without waiting longer.
      batcher.offer(Buffer.from('f\n'), 10)
      expect(calls).to.have.length(2)
      expect(Buffer.concat(calls[1].chunks).toString()).to.equal('b\nc\nd\ne\nf\n')
    })

    it('stops lingering after lingerMs when fewer rows than were in flight come back', async () => {
      const {batcher, calls, clock} = harness({insertConcurrency: 1, lingerMs: 100})
      batcher.offer(Buffer.from('a\n'), 10)
      batcher.offer(Buffer.from('b\n'), 20)
      calls[0].finish()
      await tick()
      clock.advance(99)
      expect(calls, '20 of the 30 rows in flight are waiting: the slot lingers').to.have.length(1)
      clock.advance(1)
      expect(calls, 'lingerMs after the slot was freed, it goes').to.have.length(2)
      expect(calls[1].rows).to.equal(20)
    })
  })
})
