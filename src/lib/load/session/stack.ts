/**
 * Zero set-up: with no --target, run and parallel bring their own ingest path,
 * a serve on a free loopback port storing into the store the flags describe
 * (the embedded engine by default), and verify against that same store.
 */
import type {Store, StoreOptions} from '../../store/index.js'

import {type IngestServer, startIngestServer} from '../../ingest/index.js'
import {openStore} from '../../store/index.js'

export interface LocalStack {
  /** Where workers send: http://127.0.0.1:PORT/api/logs/batch */
  target: URL
  store: Store
  server: IngestServer
  /** Stop serving (answers what is in flight, flushes). Idempotent. */
  stopServer(): Promise<void>
  /** Stop serving and close the store. */
  close(): Promise<void>
}

export async function startLocalStack(options: StoreOptions, log?: (line: string) => void): Promise<LocalStack> {
  const store = await openStore(options)
  let server: IngestServer
  try {
    await store.ensureSchema()
    server = await startIngestServer({host: '127.0.0.1', log, port: 0, store})
  } catch (error) {
    await store.close()
    throw error
  }

  const target = new URL('/api/logs/batch', server.url)
  const stopServer = () => server.stop()
  return {
    async close() {
      try {
        await stopServer()
      } finally {
        await store.close()
      }
    },
    server,
    stopServer,
    store,
    target,
  }
}
