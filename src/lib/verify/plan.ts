/**
 * Where a run against a target is verified: the store the user named (through
 * its table profile), else the target itself when it is a logbench serve, else
 * nowhere, with a note saying what to pass. Used by run, parallel and merge.
 */
import type {ProfileOverrides, Store, StoreOptions} from '../store/index.js'
import type {RunCounter} from './verify.js'

import {openStore} from '../store/index.js'
import {openStoreCounter, VerificationUnavailable} from './verify.js'
import {isLogbenchServe, serveCounter} from './remote.js'

export const NO_STORE_NOTE =
  'not verified: pass --clickhouse-url (or set CLICKHOUSE_URL) with --database/--table of the table your pipeline writes to (and --column where its run id and seq live) to count the stored rows of this run'

export interface VerificationPlan {
  counter?: RunCounter
  /** The store counted in, when it is one (ClickHouse's own view samples it during the run). */
  store?: Store
  /** Why there is no counter. */
  note?: string
  /** Verification was asked for (a store is named) but cannot run on its table: exit 5. */
  unverifiable: boolean
  close(): Promise<void>
}

export interface VerificationOptions {
  /** Where the logs were sent. */
  target?: URL
  /** A store already open, used instead of opening the one storeOptions names. */
  store?: Store
  storeOptions: StoreOptions
  columns?: ProfileOverrides
  /** Headers for a serve's verification endpoint (its bearer token). */
  headers?: Record<string, string>
  signal?: AbortSignal
  warn?: (line: string) => void
}

export async function planVerification(options: VerificationOptions): Promise<VerificationPlan> {
  const none = async () => {}
  if (options.store || options.storeOptions.clickhouseUrl) {
    // The user named a store: it must be reachable, before any load is sent.
    const store = options.store ?? (await openStore(options.storeOptions))
    const close = options.store ? none : () => store.close()
    try {
      return {close, counter: await openStoreCounter(store, options.columns, options.signal), store, unverifiable: false}
    } catch (error) {
      if (!(error instanceof VerificationUnavailable)) {
        await close()
        throw error
      }

      options.warn?.(`${error.message} (the run goes ahead and reports its measurements)`)
      return {close, note: error.message, store, unverifiable: true}
    }
  }

  // No store named: a logbench serve can count for us.
  if (options.target && (await isLogbenchServe(options.target, options.signal))) {
    return {close: none, counter: serveCounter(options.target, options.headers), unverifiable: false}
  }

  return {close: none, note: NO_STORE_NOTE, unverifiable: false}
}
