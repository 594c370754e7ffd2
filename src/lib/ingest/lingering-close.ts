/**
 * A lingering close, for an answer sent before the request's body was read
 * (413, 401, 415, a 503 at once, ...). Closing the socket at once would make
 * the client's kernel reset the connection while the client still sends, and
 * most HTTP clients (undici, Node's fetch) then lose the answer to ECONNRESET.
 * So the answer goes out with `Connection: close`, the rest of the body is read
 * and discarded, then the connection closes: once the body has ended, or the
 * client closed, or past a bound in bytes or in time, whichever comes first.
 * Nothing discarded is kept: memory does not grow with the body.
 */
import type http from 'node:http'

export interface LingerLimits {
  /** Bytes of the rest of a refused body read and discarded at most before the connection is cut. */
  maxBytes: number
  /** Milliseconds from the answer after which the connection is cut, whatever is still coming. */
  maxMs: number
}

/** How a lingering close ended. */
export type LingerEnd = 'drained' | 'client_closed' | 'byte_limit' | 'time_limit' | 'shutdown'

export const DEFAULT_LINGER_LIMITS: LingerLimits = {maxBytes: 64 * 1024 * 1024, maxMs: 30_000}

/** A request with a body (declared or chunked): one without has nothing left to read. */
export function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0
}

export class LingeringCloses {
  /** Each lingering request, with what ends it. */
  private readonly open = new Map<http.IncomingMessage, {end: (how: LingerEnd) => void; ended: Promise<void>}>()

  constructor(
    private readonly limits: LingerLimits,
    /** Told how each one ended and how many body bytes it discarded. */
    private readonly onEnd: (how: LingerEnd, discardedBytes: number) => void,
  ) {}

  /** Connections lingering now. */
  get size(): number {
    return this.open.size
  }

  /** Read and discard the rest of `req`'s body, then close; `res` holds the whole answer, not yet ended. */
  begin(req: http.IncomingMessage, res: http.ServerResponse): void {
    let discarded = 0
    let settle!: () => void
    const ended = new Promise<void>((resolve) => (settle = resolve))
    const onData = (chunk: Buffer) => {
      discarded += chunk.length
      if (discarded > this.limits.maxBytes) end('byte_limit')
    }

    const end = (how: LingerEnd) => {
      if (!this.open.has(req)) return
      this.open.delete(req)
      clearTimeout(timer)
      req.off('data', onData)
      // Drained: the answer ends and the connection closes cleanly (Connection: close). Otherwise
      // the socket is cut; the client has had the answer since the start.
      if (how === 'drained') res.end()
      else if (how !== 'client_closed') req.socket.destroy()
      this.onEnd(how, discarded)
      settle()
    }

    const timer = setTimeout(() => end('time_limit'), this.limits.maxMs)
    timer.unref()
    this.open.set(req, {end, ended})
    if (req.socket.destroyed) return end('client_closed')
    req.on('data', onData)
    req.once('end', () => end('drained'))
    req.once('close', () => end('client_closed'))
    res.once('close', () => end('client_closed'))
  }

  /** Settled once every connection lingering now has closed. */
  settled(): Promise<void> {
    return Promise.all([...this.open.values()].map((entry) => entry.ended)).then(() => {})
  }

  /** Cut every lingering connection (on shutdown, past the grace period). */
  cutAll(): void {
    for (const entry of [...this.open.values()]) entry.end('shutdown')
  }
}
