/**
 * Group commit. Requests hand in their encoded rows and wait; the batcher
 * merges whatever is pending into one INSERT when an insert slot is free,
 * bounded by rows and bytes per insert. A request that arrives alone goes at
 * once (an idle server answers without delay). Under load the free slot
 * lingers a little while rows keep arriving, since ClickHouse spends a few ms
 * of CPU on every INSERT whatever its size: fewer, larger inserts leave more
 * CPU for everything else. A request is answered when the insert carrying its
 * rows has committed; a failed insert fails exactly the requests it carried.
 * The buffer (pending plus inserting) is bounded: past it, `offer` refuses at
 * once and the caller answers 503.
 */

export interface BatcherOptions {
  /** Rows per INSERT at most. */
  maxBatchRows: number
  /** Bytes per INSERT at most. */
  maxBatchBytes: number
  /**
   * While an insert is running, a second one starts only once this many rows are
   * pending or the oldest has waited maxWaitMs; with nothing running, rows go at once.
   */
  parallelFlushRows: number
  /** Longest pending rows wait for a free slot to be used (see parallelFlushRows). */
  maxWaitMs: number
  /**
   * Under load, how long a free insert slot waits for more rows (0: never). It stops
   * waiting early once as many rows wait as were held at the busiest moment of the last
   * second (all the rows in flight are back), or a batch is full.
   */
  lingerMs: number
  /** INSERTs running at once. */
  insertConcurrency: number
  /** Rows buffered (pending and inserting) at most. */
  maxBufferRows: number
  /** Bytes buffered (pending and inserting) at most. */
  maxBufferBytes: number
}

export const DEFAULT_BATCHER_OPTIONS: BatcherOptions = {
  insertConcurrency: 2,
  maxBatchBytes: 16 * 1024 * 1024,
  maxBatchRows: 100_000,
  maxBufferBytes: 64 * 1024 * 1024,
  maxBufferRows: 400_000,
  lingerMs: 50,
  maxWaitMs: 200,
  parallelFlushRows: 50_000,
}

export interface InsertOutcome {
  rows: number
  bytes: number
  requests: number
  durationMs: number
  error?: unknown
}

/** Writes one batch; resolves when it is committed. */
export type BatchWriter = (chunks: Buffer[], info: {rows: number; bytes: number; id: number}) => Promise<void>

interface Pending {
  encoded: Buffer
  rows: number
  bytes: number
  enqueuedAt: number
  /** Nothing else arrived shortly before it. */
  alone: boolean
  resolve: () => void
  reject: (error: unknown) => void
}

/** The batcher's time: now, and a callback later (the tests drive one by hand). */
export interface BatcherClock {
  now(): number
  /** Run `fn` after `ms`; returns what cancels it. */
  later(fn: () => void, ms: number): () => void
}

export const systemBatcherClock: BatcherClock = {
  later(fn, ms) {
    const timer = setTimeout(fn, ms)
    timer.unref?.()
    return () => clearTimeout(timer)
  },
  now: Date.now,
}

export type OfferResult = {ok: true; committed: Promise<void>} | {ok: false; reason: 'full' | 'closed'}

export class Batcher {
  private queue: Pending[] = []
  private queuedRows = 0
  private queuedBytes = 0
  private bufferedRows = 0
  private bufferedBytes = 0
  private running = 0
  private insertIds = 0
  private closed = false
  private cancelTimer: (() => void) | undefined
  private timerAt = 0
  private idleWaiters: (() => void)[] = []
  private lastArrival = Number.NEGATIVE_INFINITY
  /** When an insert slot last became free. */
  private slotFreedAt = Number.NEGATIVE_INFINITY
  /** Most rows held at once lately (reset when a second old): what a lingering slot waits for. */
  private peakRows = 0
  private peakAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly write: BatchWriter,
    private readonly options: BatcherOptions = DEFAULT_BATCHER_OPTIONS,
    private readonly onInsert: (outcome: InsertOutcome) => void = () => {},
    private readonly clock: BatcherClock = systemBatcherClock,
  ) {}

  private now(): number {
    return this.clock.now()
  }

  /** Rows and bytes held (pending or being inserted), and inserts running. */
  get state(): {rows: number; bytes: number; pendingRows: number; insertsRunning: number; maxRows: number; maxBytes: number} {
    return {
      bytes: this.bufferedBytes,
      insertsRunning: this.running,
      maxBytes: this.options.maxBufferBytes,
      maxRows: this.options.maxBufferRows,
      pendingRows: this.queuedRows,
      rows: this.bufferedRows,
    }
  }

  /** Hand in encoded rows; refused at once when the buffer is full or the batcher is closed. */
  offer(encoded: Buffer, rows: number, bytes = encoded.length): OfferResult {
    if (this.closed) return {ok: false, reason: 'closed'}
    // An empty buffer always takes a request, however large, so one request can never be refused forever.
    if (this.bufferedRows > 0 && (this.bufferedRows + rows > this.options.maxBufferRows || this.bufferedBytes + bytes > this.options.maxBufferBytes)) {
      return {ok: false, reason: 'full'}
    }

    let resolve!: () => void
    let reject!: (error: unknown) => void
    const committed = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    const now = this.now()
    this.queue.push({alone: now - this.lastArrival > this.options.lingerMs, bytes, encoded, enqueuedAt: now, reject, resolve, rows})
    this.lastArrival = now
    this.queuedRows += rows
    this.queuedBytes += bytes
    this.bufferedRows += rows
    this.bufferedBytes += bytes
    if (this.bufferedRows >= this.peakRows || now - this.peakAt > 1000) {
      this.peakRows = this.bufferedRows
      this.peakAt = now
    }
    this.pump()
    return {committed, ok: true}
  }

  /** Stop taking rows and wait until everything handed in has been written (or failed). */
  async drain(): Promise<void> {
    this.closed = true
    this.pump()
    if (this.bufferedRows === 0 && this.running === 0) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  /** When the pending rows should be flushed into a free slot: now (0), or a later time. */
  private flushAt(now: number): number {
    const {options} = this
    const oldest = this.queue[0].enqueuedAt
    const deadline = oldest + options.maxWaitMs
    if (this.closed || now >= deadline || this.queuedRows >= options.maxBatchRows || this.queuedBytes >= options.maxBatchBytes) return 0
    if (this.running > 0) {
      // A further insert at once only for a batch worth it; otherwise when the rows waited long enough.
      return this.queuedRows >= options.parallelFlushRows ? 0 : deadline
    }

    if (options.lingerMs <= 0 || (this.queue.length === 1 && this.queue[0].alone)) return 0
    // Under a closed load (clients that send again once answered) every row in flight comes back
    // soon after an insert: wait for them, from when both a slot was free and rows were waiting.
    if (this.queuedRows >= 0.9 * this.peakRows) return 0
    const at = Math.min(Math.max(this.slotFreedAt, oldest) + options.lingerMs, deadline)
    return now >= at ? 0 : at
  }

  private pump(): void {
    let at = 0
    while (this.queue.length > 0 && this.running < this.options.insertConcurrency) {
      at = this.flushAt(this.now())
      if (at > 0) break
      this.flush()
    }

    if (this.cancelTimer && (this.queue.length === 0 || at === 0 || this.timerAt !== at)) {
      this.cancelTimer()
      this.cancelTimer = undefined
    }

    if (at > 0 && !this.cancelTimer) {
      this.timerAt = at
      this.cancelTimer = this.clock.later(
        () => {
          this.cancelTimer = undefined
          this.pump()
        },
        Math.max(0, at - this.now()),
      )
    }
  }

  private flush(): void {
    const taken: Pending[] = []
    let rows = 0
    let bytes = 0
    while (this.queue.length > 0) {
      const next = this.queue[0]
      if (taken.length > 0 && (rows + next.rows > this.options.maxBatchRows || bytes + next.bytes > this.options.maxBatchBytes)) break
      taken.push(next)
      this.queue.shift()
      rows += next.rows
      bytes += next.bytes
    }

    this.queuedRows -= rows
    this.queuedBytes -= bytes
    this.running++
    const id = ++this.insertIds
    const started = this.now()
    const chunks = taken.map((pending) => pending.encoded)
    this.write(chunks, {bytes, id, rows}).then(
      () => this.settle(taken, rows, bytes, started),
      (error: unknown) => this.settle(taken, rows, bytes, started, error),
    )
  }

  private settle(taken: Pending[], rows: number, bytes: number, started: number, error?: unknown): void {
    this.running--
    this.slotFreedAt = this.now()
    this.bufferedRows -= rows
    this.bufferedBytes -= bytes
    this.onInsert({bytes, durationMs: this.now() - started, error, requests: taken.length, rows})
    for (const pending of taken) {
      if (error === undefined) pending.resolve()
      else pending.reject(error)
    }

    this.pump()
    if (this.bufferedRows === 0 && this.running === 0 && this.queue.length === 0) {
      this.cancelTimer?.()
      this.cancelTimer = undefined
      for (const wake of this.idleWaiters.splice(0)) wake()
    }
  }
}
