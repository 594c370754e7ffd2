/**
 * Did every acknowledged log land? Counts the stored rows of a run id and
 * compares them with the acknowledgements, in the categories delivery
 * verifiers use: acknowledged, stored, missing, duplicated, stored but not
 * acknowledged, and rows of the run id from outside these results. With a
 * wait, it also measures the read-back delay: how long after the last
 * acknowledgement the last acknowledged log became visible.
 *
 * Each log's seq says which batch carried it (seq = index·workers + worker,
 * batch = index div batchSize), so rows of batches that were *not*
 * acknowledged (a timeout after the server committed, say) are told apart from
 * rows of acknowledged ones, and `missing` is exact rather than a difference
 * of totals. The run id and the seq are read wherever the table profile says
 * they are (columns, JSON keys, Map keys).
 */
import type {Clock} from '../clock.js'

import {LogbenchError} from '../errors.js'
import {type Capabilities, missingRole, type ProfileOverrides, type ProfileSql, profileSql, type QueryParams, type Store} from '../store/index.js'
import {systemClock} from '../clock.js'

export interface VerifyInput {
  runId: string
  acked: number
  workers: number
  batchSize: number
  /** Keys (batch × workers + worker) of the batches that were not acknowledged. */
  failedKeys: readonly number[]
  /** False when the failed batch list was truncated: missing is then a lower bound. */
  failedKeysComplete: boolean
  /**
   * Batches each worker sent, by worker index (length `workers`). Only the seqs of those batches
   * are counted: rows of the run id from elsewhere (an earlier run with the same id, a worker
   * that died before reporting, a result left out of merge) cannot then hide a missing log.
   */
  sentBatches?: readonly number[]
  /** When the last acknowledgement arrived (epoch ms), for the read-back delay. */
  lastAckAtMs?: number
}

/** One counting pass over the stored rows of a run. */
export interface RunCounts {
  /** Rows of the batches these results sent. */
  stored: number
  /** Distinct seqs among them. */
  unique: number
  /** Distinct seqs of the run id outside those batches. */
  outside: number
  /** Distinct seqs stored from batches that were not acknowledged. */
  unacknowledged: number
}

export interface Verification {
  runId: string
  /** Where the rows were counted (no credentials). */
  store: string
  acked: number
  /** Rows of the batches these results sent. */
  stored: number
  /** Distinct seq among them. */
  unique: number
  /** Acknowledged logs not found. */
  missing: number
  /** Rows beyond the first of each seq. */
  duplicated: number
  /** Distinct logs stored from batches that were not acknowledged. */
  unacknowledged: number
  /** Distinct seqs of the run id outside the batches these results sent (not counted above). */
  outside: number
  /** False when `missing` may be understated (more failed batches than could be tracked). */
  exact: boolean
  ok: boolean
  /** Time spent waiting for rows to appear (0 when they were all there at the first count). */
  waitedMs: number
  /**
   * From the last acknowledgement to the first count that found every acknowledged log (ms,
   * to within `pollMs`); null when they were not all found.
   */
  readBackDelayMs: number | null
  /** Interval between counts while waiting. */
  pollMs: number
}

/** Counts the rows of a run somewhere: a store read through its profile, or a logbench serve. */
export interface RunCounter {
  /** Where it counts, for people (no credentials). */
  readonly where: string
  count(input: VerifyInput, signal?: AbortSignal): Promise<RunCounts>
  /** Rows that already carry this run id. */
  rowsOfRun(runId: string, signal?: AbortSignal): Promise<number>
}

/** Verification cannot run on this table: the message names the flag that would make it possible. */
export class VerificationUnavailable extends LogbenchError {
  constructor(message: string, suggestion?: string) {
    super('unverified', message, {suggestion})
    this.name = 'VerificationUnavailable'
  }
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
/** Longest list a verification request may carry (the results cap theirs far below). */
const MAX_LIST = 200_000

/** A VerifyInput from JSON (serve's verification endpoint), checked field by field. */
export function parseVerifyInput(value: unknown): VerifyInput {
  const v = value as Record<string, unknown>
  if (!v || typeof v !== 'object') throw new TypeError('expected a JSON object')
  const count = (name: string, min = 0) => {
    const n = v[name]
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw new TypeError(`${name} must be a whole number >= ${min}`)
    return n
  }

  const list = (name: string): number[] | undefined => {
    const items = v[name]
    if (items === undefined) return undefined
    if (!Array.isArray(items) || items.length > MAX_LIST || !items.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) {
      throw new TypeError(`${name} must be a list of at most ${MAX_LIST} whole numbers`)
    }

    return items as number[]
  }

  if (typeof v.runId !== 'string' || !RUN_ID.test(v.runId)) throw new TypeError('runId must be a run id')
  return {
    acked: count('acked'),
    batchSize: count('batchSize', 1),
    failedKeys: list('failedKeys') ?? [],
    failedKeysComplete: v.failedKeysComplete !== false,
    runId: v.runId,
    sentBatches: list('sentBatches'),
    workers: count('workers', 1),
  }
}

/**
 * The counting query over the profile's run id and seq (exported for tests). Distinct seqs are counted
 * exactly either way: in a bitmap where the server has groupBitmap (seqs are dense, so 8 M of them take
 * about 1 MB, where uniqExact's hash sets take hundreds), in hash sets on older servers.
 */
export function verificationQuery(
  tableRef: string,
  profile: ProfileSql,
  input: Pick<VerifyInput, 'failedKeys' | 'sentBatches'>,
  caps: Pick<Capabilities, 'groupBitmap'>,
): string {
  const exact = caps.groupBitmap ? 'groupBitmap' : 'uniqExact'
  const distinct = (condition?: string) => (condition ? `${exact}If(lb_seq, ${condition})` : `${exact}(lb_seq)`)
  const batchKey = 'intDiv(intDiv(lb_seq, {workers:UInt64}), {batch:UInt64}) * {workers:UInt64} + (lb_seq % {workers:UInt64})'
  const unacked = input.failedKeys.length > 0 ? `, ${distinct(`has({failed:Array(UInt64)}, ${batchKey})`)} AS unacked` : ''
  // A seq belongs to these results when its worker sent the batch that carries it.
  const covered = 'intDiv(intDiv(lb_seq, {workers:UInt64}), {batch:UInt64}) < arrayElement({sent:Array(UInt64)}, toUInt64(lb_seq % {workers:UInt64}) + 1)'
  const counts = input.sentBatches
    ? `countIf(${covered}) AS stored, ${distinct(covered)} AS unique, ${distinct()} AS all_unique`
    : `count() AS stored, ${distinct()} AS unique`
  return `SELECT ${counts}${unacked}\nFROM (SELECT ${profile.expr('seq')} AS lb_seq FROM ${tableRef} WHERE ${profile.expr('run_id')} = {runId:String})`
}

function describeStore(store: Store): string {
  return `${store.info.kind === 'server' ? 'ClickHouse' : 'embedded engine'} ${store.info.location} ${store.info.database}.${store.info.table}`
}

/** A counter over a store, through the table's profile; it refuses a table without run id or seq. */
export function storeCounter(store: Store, profile: ProfileSql): RunCounter {
  for (const role of ['run_id', 'seq'] as const) {
    if (!profile.has(role)) throw new VerificationUnavailable(`not verified: ${missingRole(profile.profile, role, 'verification')}`)
  }

  return {
    async count(input, signal) {
      const params: QueryParams = {runId: input.runId}
      if (input.failedKeys.length > 0 || input.sentBatches) Object.assign(params, {batch: input.batchSize, workers: input.workers})
      if (input.failedKeys.length > 0) params.failed = [...input.failedKeys]
      if (input.sentBatches) params.sent = [...input.sentBatches]
      const [row] = await store.query<{stored: number; unique: number; all_unique?: number; unacked?: number}>(verificationQuery(store.tableRef, profile, input, store.info.capabilities), params, {signal})
      const unique = Number(row?.unique ?? 0)
      return {outside: Number(row?.all_unique ?? unique) - unique, stored: Number(row?.stored ?? 0), unacknowledged: Number(row?.unacked ?? 0), unique}
    },
    async rowsOfRun(runId, signal) {
      if (!(await store.schemaExists())) return 0
      const [row] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef} WHERE ${profile.expr('run_id')} = {runId:String}`, {runId}, {signal})
      return Number(row?.n ?? 0)
    },
    where: describeStore(store),
  }
}

/** Read the store's profile (with the user's overrides) and give its counter. */
export async function openStoreCounter(store: Store, overrides: ProfileOverrides = {}, signal?: AbortSignal): Promise<RunCounter> {
  if (!(await store.schemaExists())) {
    // The zero set-up serve creates the table as it starts: logbench's schema, counted as such.
    return lazyCounter(store, overrides)
  }

  return storeCounter(store, await profileSql(store, overrides, signal))
}

/** A counter that reads the profile at its first use (the table may not exist yet). */
function lazyCounter(store: Store, overrides: ProfileOverrides): RunCounter {
  let inner: Promise<RunCounter> | undefined
  const get = () => (inner ??= profileSql(store, overrides).then((profile) => storeCounter(store, profile)))
  return {
    count: async (input, signal) => (await get()).count(input, signal),
    rowsOfRun: async (runId, signal) => ((await store.schemaExists()) ? (await get()).rowsOfRun(runId, signal) : 0),
    where: describeStore(store),
  }
}

export interface VerifyOptions {
  /** Keep counting until the acknowledged rows are all there, for up to this long (ms). */
  waitMs?: number
  pollMs?: number
  clock?: Clock
  signal?: AbortSignal
}

export async function verifyRun(counter: RunCounter, input: VerifyInput, options: VerifyOptions = {}): Promise<Verification> {
  const clock = options.clock ?? systemClock
  const started = clock.now()
  const startedWall = clock.wallNow()
  const pollMs = options.pollMs ?? 250
  const waitMs = options.waitMs ?? 0
  for (let attempt = 0; ; attempt++) {
    const countedAt = clock.now()
    const counts = await counter.count(input, options.signal)
    const missing = Math.max(0, input.acked - (counts.unique - counts.unacknowledged))
    const waited = clock.now() - started
    if (missing === 0 || waited >= waitMs || options.signal?.aborted) {
      // The count that found everything saw the rows as of when it started, at the latest.
      const foundAtWall = startedWall + (countedAt - started)
      const readBackDelayMs = missing > 0 ? null : input.lastAckAtMs === undefined ? null : Math.max(0, Math.round(foundAtWall - input.lastAckAtMs))
      return {
        acked: input.acked,
        duplicated: counts.stored - counts.unique,
        exact: input.failedKeysComplete,
        missing,
        ok: missing === 0,
        outside: counts.outside,
        pollMs,
        readBackDelayMs,
        runId: input.runId,
        store: counter.where,
        stored: counts.stored,
        unacknowledged: counts.unacknowledged,
        unique: counts.unique,
        waitedMs: attempt === 0 ? 0 : Math.round(waited),
      }
    }

    await clock.sleep(Math.min(pollMs, waitMs - waited), options.signal)
  }
}
