import {setTimeout as sleep} from 'node:timers/promises'

import {describeStore, type ProfileOverrides, type ProfileSql, profileSql, type QueryParams, type Store} from '../store/index.js'

import {filtersJson, type Filters, type FiltersJson, MAX_FILTER_VALUES, whereClause} from '../analyze/filters.js'
import {parseTime} from '../analyze/time.js'
import {LogbenchError, usageError} from '../errors.js'
import {formatInt} from '../format/units.js'

export type CleanupAction = 'delete' | 'truncate' | 'drop' | 'optimize'

/** What the user asked for, validated. */
export interface CleanupRequest {
  truncate: boolean
  optimize: boolean
  drop: boolean
  /** Delete rows matching every given condition (AND). */
  apps: string[]
  runIds: string[]
  /** ingest time (else event time) < before (epoch ms) */
  before?: number
}

export interface RawCleanupRequest {
  truncate?: boolean
  optimize?: boolean
  drop?: boolean
  apps?: readonly string[]
  runIds?: readonly string[]
  before?: string
}

function values(list: readonly string[] | undefined, flag: string): string[] {
  const out = [...new Set((list ?? []).map((value) => value.trim()))]
  if (out.includes('')) throw usageError(`${flag} has an empty value`, `pass ${flag} with names separated by commas`)
  if (out.length > MAX_FILTER_VALUES) throw usageError(`${flag} was given ${out.length} values; at most ${MAX_FILTER_VALUES} are allowed`)
  return out
}

export function parseCleanupRequest(raw: RawCleanupRequest, now = Date.now()): CleanupRequest {
  const request: CleanupRequest = {
    apps: values(raw.apps, '--apps'),
    drop: raw.drop ?? false,
    optimize: raw.optimize ?? false,
    runIds: values(raw.runIds, '--run-id'),
    truncate: raw.truncate ?? false,
  }
  if (raw.before !== undefined) request.before = parseTime(raw.before, '--before', now)
  const deleting = isDelete(request)
  if (!deleting && !request.truncate && !request.drop && !request.optimize) {
    throw usageError('nothing to do', 'pass --truncate, --optimize, --drop, or rows to delete with --apps, --run-id and/or --before')
  }

  if (request.drop && (deleting || request.truncate || request.optimize)) {
    throw usageError('--drop removes the whole table: it cannot be combined with other actions')
  }

  if (request.truncate && deleting) {
    throw usageError('--truncate deletes every row: it cannot be combined with --apps, --run-id or --before', 'pass one or the other')
  }

  return request
}

export function isDelete(request: CleanupRequest): boolean {
  return request.apps.length > 0 || request.runIds.length > 0 || request.before !== undefined
}

/** Does the request remove data (and so need confirmation)? OPTIMIZE alone does not. */
export function isDestructive(request: CleanupRequest): boolean {
  return request.truncate || request.drop || isDelete(request)
}

export function deleteFilters(request: CleanupRequest): Filters {
  return {apps: request.apps, before: request.before, levels: [], runIds: request.runIds}
}

export type DeleteMethod = 'lightweight-delete' | 'mutation-sync' | 'mutation-poll'

export interface CleanupStatement {
  action: CleanupAction
  /** The statement as sent, with `{name:Type}` placeholders where values are bound. */
  sql: string
  params: QueryParams
}

export interface CleanupPlan {
  /** The store the plan acts on: "ClickHouse 18.16.1 at http://…" or "embedded engine in /dir". */
  store: string
  database: string
  table: string
  exists: boolean
  actions: CleanupAction[]
  /** The delete condition (delete only). */
  filters: FiltersJson | null
  deleteMethod: DeleteMethod | null
  rowsBefore: number | null
  /** Rows the destructive action takes: all of them for truncate/drop, the matching ones for delete. */
  affectedRows: number | null
  partsBefore: number | null
  statements: CleanupStatement[]
}

export interface CleanupResult extends CleanupPlan {
  dryRun: boolean
  executed: boolean
  rowsAfter: number | null
  /** Delete: rows still matching the condition afterwards (0 unless rows arrived meanwhile). */
  remainingMatching: number | null
  removedRows: number | null
  partsAfter: number | null
  durationMs: number
}

function actionsOf(request: CleanupRequest): CleanupAction[] {
  const actions: CleanupAction[] = []
  if (isDelete(request)) actions.push('delete')
  if (request.truncate) actions.push('truncate')
  if (request.drop) actions.push('drop')
  if (request.optimize) actions.push('optimize')
  return actions
}

function deleteMethod(store: Store): DeleteMethod {
  const caps = store.info.capabilities
  if (caps.lightweightDelete) return 'lightweight-delete'
  return caps.mutationsSync ? 'mutation-sync' : 'mutation-poll'
}

function statementsFor(store: Store, profile: ProfileSql, request: CleanupRequest): CleanupStatement[] {
  const table = store.tableRef
  const out: CleanupStatement[] = []
  if (isDelete(request)) {
    const where = whereClause(deleteFilters(request), profile, 'd')
    const sql = store.info.capabilities.lightweightDelete ? `DELETE FROM ${table} WHERE ${where.condition}` : `ALTER TABLE ${table} DELETE WHERE ${where.condition}`
    out.push({action: 'delete', params: where.params, sql})
  }

  if (request.truncate) out.push({action: 'truncate', params: {}, sql: `TRUNCATE TABLE ${table}`})
  if (request.drop) out.push({action: 'drop', params: {}, sql: `DROP TABLE ${table}`})
  if (request.optimize) out.push({action: 'optimize', params: {}, sql: `OPTIMIZE TABLE ${table} FINAL`})
  return out
}

async function countRows(store: Store, match: {profile: ProfileSql; request: CleanupRequest} | undefined, signal?: AbortSignal): Promise<number> {
  if (!match) {
    const [row] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef}`, {}, {signal})
    return row.n
  }

  const where = whereClause(deleteFilters(match.request), match.profile, 'd')
  const [row] = await store.query<{n: number}>(`SELECT count() AS n FROM ${store.tableRef} ${where.sql}`, where.params, {signal})
  return row.n
}

async function countParts(store: Store, signal?: AbortSignal): Promise<number> {
  const [row] = await store.query<{n: number}>(
    'SELECT count() AS n FROM system.parts WHERE database = {c_db:String} AND table = {c_table:String} AND active',
    {c_db: store.info.database, c_table: store.info.table},
    {signal},
  )
  return row.n
}

const SYSTEM_DATABASES = new Set(['system', 'information_schema', 'INFORMATION_SCHEMA'])

/**
 * Destructive actions change only a logs table: logbench's own, or a table of
 * the user's that they named (--database / --table) — and in either case a
 * MergeTree-family table outside the system databases.
 */
function assertCleanable(profile: ProfileSql, tableNamed: boolean): void {
  const {database, table, engine, shape} = profile.profile
  if (SYSTEM_DATABASES.has(database)) {
    throw usageError(`cleanup does not touch the ${database} database`, 'name the logs table with --database and --table')
  }

  if (!engine || !/MergeTree$/.test(engine)) {
    throw usageError(
      `${database}.${table} is a ${engine ?? 'table of unknown engine'}, not a MergeTree table: cleanup refuses to change it`,
      'name the MergeTree table that holds the logs with --database and --table',
    )
  }

  const logLike = (['message', 'app', 'level'] as const).filter((role) => profile.has(role))
  if (logLike.length === 0) {
    throw usageError(
      `${database}.${table} is not a logs table (no column holds a message, an app or a level): cleanup refuses to change it`,
      'check --database and --table, or say where the log fields are with --column message=COLUMN',
    )
  }

  if (shape !== 'logbench' && !tableNamed) {
    throw usageError(
      `${database}.${table} is not a logbench logs table: cleanup changes another table only when you name it`,
      `pass --database ${database} --table ${table} to confirm that this is the table to clean`,
    )
  }
}

export interface PlanOptions {
  signal?: AbortSignal
  /** --column overrides of the table profile (deletes by app, run id or age read it). */
  columns?: ProfileOverrides
  /** The user named the table explicitly (required for a table that is not logbench's own). */
  tableNamed?: boolean
}

/** Look before deleting: does the table exist, how many rows would go, how will they be deleted. Changes nothing. */
export async function planCleanup(store: Store, request: CleanupRequest, options: PlanOptions = {}): Promise<CleanupPlan> {
  const {signal} = options
  const exists = await store.schemaExists()
  const profile = exists ? await profileSql(store, options.columns, signal) : undefined
  if (profile && isDestructive(request)) assertCleanable(profile, options.tableNamed ?? false)
  const deleting = isDelete(request)
  const {info} = store
  const plan: CleanupPlan = {
    store: describeStore({kind: info.kind, location: info.location, version: info.version.text}),
    actions: actionsOf(request),
    affectedRows: null,
    database: store.info.database,
    deleteMethod: deleting ? deleteMethod(store) : null,
    exists,
    filters: deleting ? filtersJson(deleteFilters(request)) : null,
    partsBefore: null,
    rowsBefore: null,
    statements: profile ? statementsFor(store, profile, request) : [],
    table: store.info.table,
  }
  if (!exists) return plan
  plan.rowsBefore = await countRows(store, undefined, signal)
  plan.partsBefore = await countParts(store, signal)
  if (deleting) plan.affectedRows = await countRows(store, {profile: profile!, request}, signal)
  else if (request.truncate || request.drop) plan.affectedRows = plan.rowsBefore
  return plan
}

export interface ExecuteOptions {
  signal?: AbortSignal
  /** The --column overrides the plan was made with. */
  columns?: ProfileOverrides
  /** Give up waiting for a DELETE, OPTIMIZE or TRUNCATE after this long (default 10 minutes). */
  mutationTimeoutMs?: number
  /** How often system.mutations is read while waiting (default 200 ms). */
  pollMs?: number
  /** Progress lines for people (stderr). */
  onProgress?: (message: string) => void
}

/**
 * Carry out a plan: delete (lightweight DELETE where the server has it, else
 * ALTER TABLE … DELETE awaited to completion), truncate or drop, then OPTIMIZE
 * … FINAL; then count again. A delete that matches no row runs no mutation.
 */
/** The result of a plan that has not run (a dry run, or nothing to do). */
export function unexecutedResult(plan: CleanupPlan, dryRun: boolean): CleanupResult {
  return {
    ...plan,
    dryRun,
    durationMs: 0,
    executed: false,
    partsAfter: null,
    remainingMatching: null,
    removedRows: null,
    rowsAfter: null,
  }
}

export async function executeCleanup(store: Store, request: CleanupRequest, plan: CleanupPlan, options: ExecuteOptions = {}): Promise<CleanupResult> {
  const started = Date.now()
  const {signal} = options
  const result = unexecutedResult(plan, false)
  if (!plan.exists) return {...result, durationMs: Date.now() - started}

  const statements: CleanupStatement[] = []
  for (const statement of plan.statements) {
    signal?.throwIfAborted()
    if (statement.action === 'delete') {
      if (plan.affectedRows === 0) {
        options.onProgress?.('no row matches: nothing to delete')
        continue
      }

      options.onProgress?.(`deleting ${formatInt(plan.affectedRows)} rows (${plan.deleteMethod})`)
      await runDelete(store, statement, plan.deleteMethod!, options)
    } else {
      options.onProgress?.(statement.sql)
      await store.command(statement.sql, statement.params, {signal, timeoutMs: options.mutationTimeoutMs ?? 600_000})
    }

    statements.push(statement)
  }

  result.executed = true
  result.statements = statements
  if (request.drop) {
    result.exists = await store.schemaExists()
    result.rowsAfter = result.exists ? await countRows(store, undefined, signal) : null
    result.removedRows = plan.rowsBefore
  } else {
    result.rowsAfter = await countRows(store, undefined, signal)
    result.partsAfter = await countParts(store, signal)
    if (isDelete(request)) {
      result.remainingMatching = await countRows(store, {profile: await profileSql(store, options.columns, signal), request}, signal)
      result.removedRows = (plan.affectedRows ?? 0) - result.remainingMatching
    } else if (request.truncate) {
      result.removedRows = plan.rowsBefore
    } else {
      result.removedRows = 0
    }
  }

  result.durationMs = Date.now() - started
  return result
}

async function runDelete(store: Store, statement: CleanupStatement, method: DeleteMethod, options: ExecuteOptions): Promise<void> {
  const {signal} = options
  if (method !== 'mutation-poll') {
    // mutations_sync = 2 waits for the mutation (and, before 24.4, for a lightweight DELETE) on every replica.
    await store.command(statement.sql, statement.params, {settings: {mutations_sync: 2}, signal, timeoutMs: options.mutationTimeoutMs ?? 600_000})
    return
  }

  // ClickHouse before 19.9 has no mutations_sync: ALTER … DELETE returns at once and the
  // mutation runs in the background. Find the mutation it created and poll until it is done.
  const known = new Set(await mutationIds(store, signal))
  await store.command(statement.sql, statement.params, {signal})
  const ours = (await mutationIds(store, signal)).filter((id) => !known.has(id))
  if (ours.length === 0) throw new Error('ALTER TABLE … DELETE was accepted but no new mutation appeared in system.mutations')
  await waitForMutations(store, ours, options)
}

async function mutationIds(store: Store, signal?: AbortSignal): Promise<string[]> {
  const rows = await store.query<{mutation_id: string}>(
    'SELECT mutation_id FROM system.mutations WHERE database = {m_db:String} AND table = {m_table:String}',
    {m_db: store.info.database, m_table: store.info.table},
    {signal},
  )
  return rows.map((row) => row.mutation_id)
}

/** Poll system.mutations until every one of `ids` is done; a timeout or Ctrl+C says the mutation goes on in ClickHouse. */
export async function waitForMutations(store: Store, ids: readonly string[], options: ExecuteOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.mutationTimeoutMs ?? 600_000)
  const pollMs = options.pollMs ?? 200
  const where = `mutations ${ids.join(', ')} on ${store.info.database}.${store.info.table}`
  for (;;) {
    if (options.signal?.aborted) {
      throw new LogbenchError('interrupted', `stopped waiting for ${where}; ClickHouse carries on with them`, {
        suggestion: `follow them with: SELECT mutation_id, parts_to_do, is_done FROM system.mutations WHERE database = '${store.info.database}'`,
      })
    }

    const [row] = await store.query<{pending: number; parts_to_do: number}>(
      `SELECT countIf(is_done = 0) AS pending, sum(parts_to_do) AS parts_to_do FROM system.mutations
       WHERE database = {m_db:String} AND table = {m_table:String} AND has({m_ids:Array(String)}, mutation_id)`,
      {m_db: store.info.database, m_ids: [...ids], m_table: store.info.table},
    )
    // A finished mutation may also have left system.mutations (the server keeps the last
    // finished_mutations_to_keep); either way only unfinished ones are pending.
    if (row.pending === 0) return
    if (Date.now() > deadline) {
      throw new LogbenchError('environment', `${where} not done after ${Math.round((options.mutationTimeoutMs ?? 600_000) / 1000)} s (${row.parts_to_do} parts to do)`, {
        suggestion: 'ClickHouse carries on with them; check system.mutations and the server log, or raise --timeout',
      })
    }

    try {
      await sleep(pollMs, undefined, {signal: options.signal})
    } catch {
      // Aborted: reported at the top of the loop.
    }
  }
}
