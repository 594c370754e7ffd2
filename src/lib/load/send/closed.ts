/**
 * The closed model: `lanes` batches in flight; a lane sends its next batch
 * when the previous one is answered, until the logs are sent or the time is
 * up. Batches are produced one at a time, a turn of the event loop each, into
 * a queue one batch deep, so answers are taken in between and the sender sees
 * who kept a free slot waiting: the generator (no batch ready) or the target
 * (a batch ready, its slot busy with an answer still to come). Both waits are
 * recorded per interval; they decide whether the generator limited the run.
 *
 * A batch waits for its answer only while the event loop sits idle: while the
 * loop is busy (building the next batches, writing bodies, reading other
 * answers, or descheduled by a busy neighbour inside that work) an answer that
 * has arrived cannot be read, and that delay is the sender's own, not the
 * target's.
 */
import type {SendState} from './state.js'

export interface ClosedPlan {
  lanes: number
  /** Batches to send (Infinity for a time-bound run). */
  totalBatches: number
  /** Stop starting batches this long after the start, ms (time-bound runs). */
  durationMs?: number
}

/** Produces batches ahead of the lanes, one per turn of the event loop, at most `depth` ready. */
class Producer<T> {
  private next = 0
  private readonly ready: T[] = []
  private readonly waiting: ((batch: T | undefined) => void)[] = []
  private scheduled = false
  private done = false

  constructor(
    private readonly total: number,
    private readonly build: (b: number) => T,
    private readonly release: (batch: T) => void,
    private readonly depth = 1,
  ) {}

  /** The next batch, or undefined once there are no more. */
  take(): Promise<T | undefined> {
    const batch = this.ready.shift()
    this.fill()
    if (batch !== undefined) return Promise.resolve(batch)
    if (this.done || this.next >= this.total) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.fill()
    })
  }

  /** No more batches: waiting lanes get none, batches made ahead are released unsent. */
  close(): void {
    this.done = true
    for (const resolve of this.waiting.splice(0)) resolve(undefined)
    for (const batch of this.ready.splice(0)) this.release(batch)
  }

  private fill(): void {
    if (this.scheduled || this.done) return
    if (this.next >= this.total) {
      for (const resolve of this.waiting.splice(0)) resolve(undefined)
      return
    }

    if (this.waiting.length === 0 && this.ready.length >= this.depth) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (this.done) return
      if (this.next < this.total && (this.waiting.length > 0 || this.ready.length < this.depth)) {
        const batch = this.build(this.next++)
        const lane = this.waiting.shift()
        if (lane) lane(batch)
        else this.ready.push(batch)
      }

      this.fill()
    })
  }
}

export async function runClosed<T>(
  state: SendState,
  plan: ClosedPlan,
  batches: {build: (b: number) => T; release: (batch: T) => void; send: (batch: T) => Promise<void>},
): Promise<void> {
  const {clock} = state
  const producer = new Producer(plan.totalBatches, batches.build, batches.release)
  const timeUp = () => plan.durationMs !== undefined && clock.now() - state.start >= plan.durationMs
  const lane = async () => {
    while (!state.stopped && !timeUp()) {
      const freeAt = clock.now()
      const batch = await producer.take()
      if (batch === undefined) return
      const readyAt = clock.now()
      state.generatorWaited(readyAt - freeAt)
      if (state.stopped || timeUp()) {
        batches.release(batch)
        return
      }

      const idleAtReady = clock.idleMs?.()
      await state.track(() => batches.send(batch))
      const waited = clock.now() - readyAt
      state.answerWaited(idleAtReady === undefined ? waited : Math.min(waited, clock.idleMs!() - idleAtReady))
    }
  }

  try {
    await Promise.all(Array.from({length: Math.max(1, plan.lanes)}, () => lane()))
  } finally {
    producer.close()
  }
}
