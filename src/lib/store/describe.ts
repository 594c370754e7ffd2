/** The store in words, the same in every report, plan and log line. */
import type {StoreKind} from './types.js'

export interface StoreDescription {
  kind: StoreKind
  /** Server URL without credentials, or the embedded data directory. */
  location: string
  /** The version as the store reports it, e.g. "18.16.1". */
  version: string
  database?: string
  table?: string
}

/** "ClickHouse 18.16.1 at http://127.0.0.1:8123" or "embedded ClickHouse 26.7.2.1 in .logbench/data", with ", table db.t" when the table is given. */
export function describeStore(store: StoreDescription): string {
  const where = store.kind === 'server' ? `ClickHouse ${store.version} at ${store.location}` : `embedded ClickHouse ${store.version} in ${store.location}`
  return store.database !== undefined && store.table !== undefined ? `${where}, table ${store.database}.${store.table}` : where
}
