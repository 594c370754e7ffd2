/**
 * Reading a request body within two bounds: --max-body for this request, and a
 * budget for all the bodies being read at once, so many slow or large uploads
 * cannot grow memory either.
 */
import type http from 'node:http'

import type {BufferPool} from './buffer-pool.js'

/** The body, or why it was not read to its end: over --max-body, or over the budget of bodies being read. */
export type BodyOutcome = Buffer | 'too_large' | 'busy'

export class BodyReader {
  /** Requests whose body is being read. */
  private readonly reading = new Set<http.IncomingMessage>()
  private bytesReading = 0

  constructor(
    readonly maxBodyBytes: number,
    readonly maxReadingBytes: number,
    private readonly pool: BufferPool,
  ) {}

  /** Bytes reserved by the bodies being read now. */
  get reservedBytes(): number {
    return this.bytesReading
  }

  /** Cut off every upload still being read (on shutdown, past the grace period): none holds rows. */
  cutAll(): void {
    for (const req of this.reading) req.socket.destroy()
  }

  /** Read the body of `req`; `reading` is called once it is going to be read (past the checks of its declared length). */
  read(req: http.IncomingMessage, reading?: () => void): Promise<BodyOutcome> {
    const {maxBodyBytes, maxReadingBytes, pool} = this
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'])
      if (declared > maxBodyBytes) {
        resolve('too_large')
        return
      }

      let reserved = 0
      const reserve = (bytes: number) => {
        if (this.bytesReading + bytes > maxReadingBytes && reserved + this.bytesReading > 0) return false
        this.bytesReading += bytes
        reserved += bytes
        return true
      }

      const release = () => {
        this.bytesReading -= reserved
        reserved = 0
        this.reading.delete(req)
      }

      if (declared > 0 && !reserve(declared)) {
        resolve('busy')
        return
      }

      this.reading.add(req)
      reading?.()
      const chunks: Buffer[] = []
      // A declared length is read straight into one pooled buffer; a chunked body is gathered.
      let into = declared > 0 ? pool.acquire(declared) : undefined
      let size = 0
      let settled = false
      const finish = (value: BodyOutcome | Error) => {
        if (settled) return
        settled = true
        chunks.length = 0
        if (into && (typeof value === 'string' || value instanceof Error)) pool.release(into)
        into = undefined
        release()
        if (value instanceof Error) reject(value)
        else resolve(value)
      }

      req.on('data', (chunk: Buffer) => {
        if (settled) return
        if (into) {
          // The HTTP parser never passes more than Content-Length; refuse rather than assume it.
          if (size + chunk.length > declared) return finish(new Error('body longer than its Content-Length'))
          chunk.copy(into, size)
        } else chunks.push(chunk)
        size += chunk.length
        if (size > maxBodyBytes) return finish('too_large')
        if (size > reserved && !reserve(size - reserved)) return finish('busy')
      })
      req.on('end', () => {
        if (settled) return
        if (into) return finish(into.subarray(0, size))
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
        finish(body)
      })
      req.on('error', (error) => finish(error))
      req.on('close', () => finish(new Error('the client closed the connection before the body was complete')))
    })
  }
}
