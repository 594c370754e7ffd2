/**
 * The merges an ingest leaves behind. A MergeTree INSERT writes one part; background merges
 * then rewrite its rows, more often the smaller the parts. That CPU belongs to the ingest that
 * caused it, so a bench compares ClickHouse's CPU a row once the merges have settled.
 */
import type {Store} from '../../src/lib/store/index.js'

/**
 * Wait until no merge of `database` has run for `quietMs` (or `maxMs` passed); the ms waited
 * and whether it settled.
 */
export async function mergesSettled(store: Store, database: string, options: {quietMs?: number; maxMs?: number} = {}): Promise<{waitedMs: number; settled: boolean}> {
  const quietMs = options.quietMs ?? 5000
  const maxMs = options.maxMs ?? 120_000
  const started = performance.now()
  let quietSince = started
  for (;;) {
    const [row] = await store.query<{n: number}>('SELECT count() AS n FROM system.merges WHERE database = {db:String}', {db: database})
    const now = performance.now()
    if (Number(row?.n ?? 0) > 0) quietSince = now
    else if (now - quietSince >= quietMs) return {settled: true, waitedMs: now - started}
    if (now - started >= maxMs) return {settled: false, waitedMs: now - started}
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
