/** GET /health: whether serve can take logs now, with its store, buffer and memory. */
import type {Store} from '../store/index.js'
import type {Batcher} from './batcher.js'
import type {Reply} from './reply.js'
import type {StoreLiveness} from './store-liveness.js'

import {SERVICE_NAME} from '../verify/route.js'

export {SERVICE_NAME}

/**
 * 200 when serve takes logs, else 503. `details`: with the store, the buffer and the process's memory;
 * without, only the service's name and status (what a probe needs, for a caller without the token).
 */
export async function healthReply(store: Store, liveness: StoreLiveness, batcher: Batcher, closing: () => boolean, details = true): Promise<Reply> {
  const reachable = await store.ping()
  // /health and the requests agree: a store that answers takes requests again at once, one that does not is down.
  if (reachable) liveness.markUp()
  else liveness.markDown(new Error('the store did not answer a ping'))
  const state = batcher.state
  const ok = reachable && !closing()
  if (!details) return {body: {service: SERVICE_NAME, status: ok ? 'ok' : 'unavailable'}, status: ok ? 200 : 503}
  return {
    body: {
      buffer: {bytes: state.bytes, insertsRunning: state.insertsRunning, maxBytes: state.maxBytes, maxRows: state.maxRows, rows: state.rows},
      memory: (({arrayBuffers, external, heapTotal, heapUsed, rss}) => ({arrayBuffers, external, heapTotal, heapUsed, rss}))(process.memoryUsage()),
      service: SERVICE_NAME,
      status: ok ? 'ok' : 'unavailable',
      store: {
        database: store.info.database,
        kind: store.info.kind,
        location: store.info.location,
        reachable,
        table: store.info.table,
        version: store.info.version.text,
      },
    },
    status: ok ? 200 : 503,
  }
}
