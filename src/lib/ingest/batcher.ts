/**
 * Group commit. Requests hand in their encoded rows and wait; the batcher
 * merges whatever is pending into one INSERT as soon as an insert slot is free
 * (so the batch grows with load and an idle server answers at once), bounded by
 * rows and bytes per insert. A request is answered when the insert carrying its
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
  maxWaitMs: 200,
  parallelFlushRows: 10_000,
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
  resolve: () => void
  reject: (error: unknown) => void
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
  private timer: NodeJS.Timeout | undefined
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly write: BatchWriter,
    private readonly options: BatcherOptions = DEFAULT_BATCHER_OPTIONS,
    private readonly onInsert: (outcome: InsertOutcome) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

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
    this.queue.push({bytes, encoded, enqueuedAt: this.now(), reject, resolve, rows})
    this.queuedRows += rows
    this.queuedBytes += bytes
    this.bufferedRows += rows
    this.bufferedBytes += bytes
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

  private pump(): void {
    while (this.queue.length > 0 && this.running < this.options.insertConcurrency) {
      // Nothing running: flush at once, so an idle server answers without delay. Something
      // running: a further insert starts only for a batch worth it, or rows that waited long
      // enough; meanwhile the batch grows with load.
      const worthIt =
        this.running === 0 ||
        this.closed ||
        this.queuedRows >= this.options.parallelFlushRows ||
        this.now() - this.queue[0].enqueuedAt >= this.options.maxWaitMs
      if (!worthIt) break
      this.flush()
    }

    if (this.queue.length > 0 && !this.timer && this.running < this.options.insertConcurrency) {
      const oldest = this.queue[0].enqueuedAt
      const delay = Math.max(0, oldest + this.options.maxWaitMs - this.now())
      this.timer = setTimeout(() => {
        this.timer = undefined
        this.pump()
      }, delay)
      this.timer.unref?.()
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
    this.bufferedRows -= rows
    this.bufferedBytes -= bytes
    this.onInsert({bytes, durationMs: this.now() - started, error, requests: taken.length, rows})
    for (const pending of taken) {
      if (error === undefined) pending.resolve()
      else pending.reject(error)
    }

    this.pump()
    if (this.bufferedRows === 0 && this.running === 0 && this.queue.length === 0) {
      if (this.timer) clearTimeout(this.timer)
      this.timer = undefined
      for (const wake of this.idleWaiters.splice(0)) wake()
    }
  }
}
