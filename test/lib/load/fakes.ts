/** Collaborators for unit tests: a clock that advances only when asked, a scripted transport. */
import type {Clock} from '../../../src/lib/clock.js'
import type {Transport, TransportRequest, TransportResponse} from '../../../src/lib/load/send/transport.js'

export class FakeClock implements Clock {
  t = 0
  readonly sleeps: number[] = []
  constructor(readonly wallStart = Date.parse('2025-01-01T00:00:00Z')) {}

  advance(ms: number): void {
    this.t += ms
  }

  now(): number {
    return this.t
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms)
    if (signal?.aborted) return
    if (ms > 0) this.t += ms
    await Promise.resolve()
  }

  wallNow(): number {
    return this.wallStart + this.t
  }
}

export interface SentRequest extends TransportRequest {
  /** 0-based attempt number for this Idempotency-Key. */
  attempt: number
}

/** A transport answering with `script(request)`; a thrown error is a network error. */
export function scriptedTransport(
  script: (request: SentRequest) => Partial<TransportResponse> | Error | Promise<Partial<TransportResponse> | Error>,
): Transport & {requests: SentRequest[]; closed: boolean} {
  const attempts = new Map<string, number>()
  const transport = {
    async close() {
      transport.closed = true
    },
    closed: false,
    requests: [] as SentRequest[],
    async send(request: TransportRequest): Promise<TransportResponse> {
      const key = request.headers['idempotency-key']
      const attempt = attempts.get(key) ?? 0
      attempts.set(key, attempt + 1)
      // Copy the body as a network would: the sender reuses its buffers once a batch is done.
      const sent = {...request, attempt, body: Buffer.from(request.body)}
      transport.requests.push(sent)
      const answer = await script(sent)
      if (answer instanceof Error) throw answer
      return {body: '', headers: {}, statusCode: 202, ...answer}
    },
  }
  return transport
}

export function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), {code})
}

export const ok = (accepted?: number): Partial<TransportResponse> => ({
  body: accepted === undefined ? '' : JSON.stringify({accepted}),
  statusCode: 202,
})
