/**
 * The attempts of one batch: POST it, take the answer record by record (an
 * answer may acknowledge some logs, refuse others and ask for some again),
 * retry what may succeed later with back-off, and count each log once.
 */
import type {BatchEncoder} from '../protocols/ack.js'
import type {SendState} from './state.js'
import type {Transport} from './transport.js'
import type {StageCounter} from '../measure/stages.js'

import {HttpStatusError} from '../protocols/ack.js'
import {type BackoffTuning, backoffMs} from './backoff.js'
import {classifyError, RETRYABLE} from './error-class.js'

/** What every attempt of a run shares. */
export interface AttemptContext {
  state: SendState
  transport: Transport
  encoder: BatchEncoder
  /** The user's headers of every request (after logbench's own, so they can override them). */
  headers: Record<string, string>
  /** Retries of one batch after its first attempt. */
  retries: number
  backoff: BackoffTuning
  random: () => number
  /** The start of each batch's Idempotency-Key: run id, invocation nonce and worker. */
  keyPrefix: string
}

export interface Batch {
  /** The batch's number in this worker. */
  b: number
  count: number
  body: Buffer
  /** Monotonic ms the batch was due (open model); it is due when it goes out otherwise. */
  intendedAt?: number
  seqOf: (i: number) => number
  /** A body of its own for records sent again alone. */
  resend: (seqs: number[]) => Buffer
  /** The stage the batch belongs to (open model with a shape). */
  stage?: StageCounter
}

/**
 * Send a batch until it is settled. Resolves true when the target has read the whole body (it
 * answered, or the connection is gone), so the body's bytes may be reused.
 */
export async function attemptBatch(context: AttemptContext, batch: Batch): Promise<boolean> {
  const {state, transport, encoder, retries} = context
  const {b, stage} = batch
  const {clock} = state
  const key = `${context.keyPrefix}-b${b}`
  let headers: Record<string, string> = {'content-type': context.encoder.contentType, 'idempotency-key': key, ...context.headers}
  let body = batch.body
  state.sent(batch.count, body.length, 1, stage)
  const sentAt = clock.now()
  // Closed model: the batch is due when it is ready to go.
  const dueAt = batch.intendedAt ?? sentAt
  let bodyRead = false
  // Acknowledgements are per record: `pending` logs are in the current body; `seqs` names them once it is a resend.
  let pending = batch.count
  let seqs: number[] | undefined
  let acked = 0
  let lastClass = 'other'
  /** The batch is over: acknowledged when any of its logs was. */
  const settle = (cls: string) => {
    if (acked > 0) {
      const now = clock.now()
      state.batchAcked(now - dueAt, now - sentAt, stage)
    } else state.failBatch(b, cls, stage)
  }

  /** Count a retry of class cls and wait out its back-off; true when the run stopped meanwhile (the `count` pending logs then fail as interrupted). */
  const backOff = async (attempt: number, cls: string, retryAfterMs: number | undefined, count: number): Promise<boolean> => {
    state.retried(cls)
    await clock.sleep(backoffMs(attempt, retryAfterMs, context.random, context.backoff), state.stopSignal)
    if (!state.stopped) return false
    state.failLogs(count, 'interrupted', stage)
    settle('interrupted')
    return true
  }

  for (let attempt = 0; ; attempt++) {
    let cls: string
    let retryAfterMs: number | undefined
    try {
      const response = await transport.send({body, headers})
      const ack = encoder.judge(response, pending, clock.wallNow())
      state.answered()
      bodyRead = true
      state.acked(ack.acked, stage)
      acked += ack.acked
      for (const failure of ack.failed) {
        state.failLogs(failure.count, failure.cls, stage)
        state.sample(failure.cls, failure.sample ?? failure.cls)
        lastClass = failure.cls
      }

      const again = ack.retry?.positions.map((position) => (seqs ? seqs[position] : batch.seqOf(position))) ?? []
      if (again.length === 0) {
        settle(lastClass)
        return true
      }

      cls = ack.retry!.cls
      retryAfterMs = ack.retry!.retryAfterMs
      state.sample(cls, ack.retry!.sample ?? cls)
      if (attempt >= retries || state.stopped) {
        state.failLogs(again.length, state.stopped ? 'interrupted' : cls, stage)
        settle(cls)
        return true
      }

      if (await backOff(attempt, cls, retryAfterMs, again.length)) return true
      seqs = again
      pending = again.length
      body = batch.resend(again)
      // Another body is another request: it must not be answered as the first one was.
      headers = {...headers, 'idempotency-key': `${key}-r${attempt + 1}`}
      state.sent(0, body.length, 0)
      continue
    } catch (error) {
      state.answered()
      cls = classifyError(error)
      bodyRead = false
      if (error instanceof HttpStatusError) retryAfterMs = error.retryAfterMs
      state.sample(cls, error)
    }

    if (!RETRYABLE.has(cls) || attempt >= retries || state.stopped) {
      const final = state.stopped && RETRYABLE.has(cls) && attempt < retries ? 'interrupted' : cls
      state.failLogs(pending, final, stage)
      settle(final)
      return bodyRead
    }

    if (await backOff(attempt, cls, retryAfterMs, pending)) return false
  }
}
