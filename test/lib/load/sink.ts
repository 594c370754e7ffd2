/**
 * A small HTTP ingest endpoint for tests and benches: counts what it receives
 * and answers as told (202, 503 + Retry-After, stalls, a dropped connection),
 * optionally storing the logs in a real store the way serve does.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {makeRowEncoder, type Store} from '../../../src/lib/store/index.js'

export interface SinkRequest {
  index: number
  key: string | undefined
  contentType: string | undefined
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** What to answer: a status (and headers/body), 'drop' to destroy the socket, or a promise of either. */
export type SinkAnswer = {status: number; headers?: Record<string, string>; body?: string; /** Acknowledge without storing (a lying endpoint). */ skipStore?: boolean} | 'drop'

export interface SinkOptions {
  /** Decide the answer; default 202 {"accepted": n}. Called with the parsed log count. */
  answer?: (request: SinkRequest, logs: number) => SinkAnswer | Promise<SinkAnswer>
  /** A slow target: give the default answer only after this many ms. */
  delayMs?: number
  /** Insert accepted logs into this store before answering (durable acknowledgement, like serve). */
  store?: Store
  /** Do not parse bodies (a discarding sink for memory benches): logs are counted by their "seq" keys. */
  discard?: boolean
}

export interface Sink {
  url: string
  requests: number
  /** Logs in acknowledged (2xx) requests. */
  ackedLogs: number
  /** Idempotency keys of every request, in arrival order. */
  keys: (string | undefined)[]
  /** Seqs received in acknowledged requests (not with discard). */
  seqs: number[]
  bodies: Buffer[]
  keepBodies: boolean
  /** Headers of the last request. */
  lastHeaders: http.IncomingHttpHeaders
  stop(): Promise<void>
}

/** Parse a body of any of the three payload shapes into log objects. */
export function parseLogs(body: Buffer, contentType = ''): Record<string, unknown>[] {
  const text = body.toString('utf8')
  if (contentType.includes('ndjson')) return text.split('\n').filter(Boolean).map((line) => JSON.parse(line))
  const value = JSON.parse(text)
  return Array.isArray(value) ? value : value.logs
}

function countSeq(body: Buffer): number {
  let n = 0
  for (let i = body.indexOf('"seq":'); i !== -1; i = body.indexOf('"seq":', i + 6)) n++
  return n
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const encode = options.store ? makeRowEncoder(options.store.info.capabilities) : undefined
  const sink: Sink = {
    ackedLogs: 0,
    bodies: [],
    keepBodies: false,
    keys: [],
    lastHeaders: {},
    requests: 0,
    seqs: [],
    stop: async () => {},
    url: '',
  }
  const server = http.createServer((req, res) => {
    // Only batches count: a GET (a run asking whether this is a logbench serve) is not one.
    if (req.method !== 'POST') {
      req.resume()
      res.writeHead(404).end()
      return
    }

    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const body = Buffer.concat(chunks)
      const request: SinkRequest = {
        body,
        contentType: req.headers['content-type'],
        headers: req.headers,
        index: sink.requests++,
        key: req.headers['idempotency-key'] as string | undefined,
      }
      sink.keys.push(request.key)
      sink.lastHeaders = req.headers
      if (sink.keepBodies) sink.bodies.push(body)
      try {
        const logs = options.discard ? undefined : parseLogs(body, request.contentType)
        const count = logs ? logs.length : countSeq(body)
        if (!options.answer && options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
        const answer = options.answer ? await options.answer(request, count) : {body: JSON.stringify({accepted: count}), status: 202}
        if (answer === 'drop') {
          req.socket.destroy()
          return
        }

        if (answer.status >= 200 && answer.status < 300) {
          if (logs && options.store && !answer.skipStore) {
            const now = Date.now()
            const rows = logs.map((log) => {
              const metadata = log.metadata as {run_id: string; seq: number}
              return encode!({
                app_id: String(log.app_id),
                batch_id: request.key ?? '',
                created_at: now,
                level: log.level as 'info',
                message: String(log.message),
                metadata: JSON.stringify(log.metadata),
                run_id: metadata.run_id,
                seq: metadata.seq,
                source: String(log.source ?? ''),
                timestamp: Date.parse(String(log.timestamp)),
              })
            })
            await options.store.insert(rows.join(''))
          }

          sink.ackedLogs += count
          if (logs) for (const log of logs) sink.seqs.push((log.metadata as {seq: number}).seq)
        }

        res.writeHead(answer.status, {'content-type': 'application/json', ...answer.headers})
        res.end(answer.body ?? '{}')
      } catch (error) {
        res.writeHead(500, {'content-type': 'application/json'})
        res.end(JSON.stringify({error: String(error)}))
      }
    })
  })
  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  sink.url = `http://127.0.0.1:${port}/api/logs/batch`
  sink.stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return sink
}
