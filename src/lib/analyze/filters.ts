import {usageError} from '../errors.js'
import {displayText} from '../format/units.js'
import {type Level, LEVELS, missingRole, type ProfileSql, type QueryParams, type Role} from '../store/index.js'
import {parseTime} from './time.js'

/** Row filters shared by the reports and by cleanup. Times are epoch ms. */
export interface Filters {
  /** ingest time (else event time) >= since */
  since?: number
  /** ingest time (else event time) < before */
  before?: number
  apps: string[]
  levels: Level[]
  runIds: string[]
}

/** Filters as text, the way flags and URL query strings carry them. */
export interface RawFilters {
  since?: string
  before?: string
  apps?: readonly string[]
  levels?: readonly string[]
  runIds?: readonly string[]
}

/** Filters as --json shows them. */
export interface FiltersJson {
  since: string | null
  before: string | null
  apps: string[]
  levels: Level[]
  runIds: string[]
}

/** More values than this in one list is a mistake, not a filter. */
export const MAX_FILTER_VALUES = 100

function list(values: readonly string[] | undefined, what: string): string[] {
  const out = [...new Set(values ?? [])]
  if (out.some((value) => value === '')) throw usageError(`${what} needs a value`, `pass ${what} NAME`)
  if (out.length > MAX_FILTER_VALUES) throw usageError(`${what} was given ${out.length} values; at most ${MAX_FILTER_VALUES} are allowed`)
  return out
}

/** Validate raw filters. Values are kept verbatim: they only ever reach SQL as bound parameters. */
export function parseFilters(raw: RawFilters, now = Date.now()): Filters {
  const levels = list(raw.levels, '--level')
  for (const level of levels) {
    if (!(LEVELS as readonly string[]).includes(level)) {
      throw usageError(`--level "${level}" is not a log level`, `use one of ${LEVELS.join(', ')}`)
    }
  }

  const filters: Filters = {
    apps: list(raw.apps, '--app'),
    levels: levels as Level[],
    runIds: list(raw.runIds, '--run-id'),
  }
  if (raw.since !== undefined) filters.since = parseTime(raw.since, '--since', now)
  if (raw.before !== undefined) filters.before = parseTime(raw.before, '--before', now)
  if (filters.since !== undefined && filters.before !== undefined && filters.since >= filters.before) {
    throw usageError('--since must be earlier than --before')
  }

  return filters
}

export function hasFilters(filters: Filters): boolean {
  return filters.since !== undefined || filters.before !== undefined || filters.apps.length + filters.levels.length + filters.runIds.length > 0
}

export function filtersJson(filters: Filters): FiltersJson {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())
  return {apps: [...filters.apps], before: iso(filters.before), levels: [...filters.levels], runIds: [...filters.runIds], since: iso(filters.since)}
}

export interface WhereClause {
  /** "WHERE …" or "" when there is no filter. */
  sql: string
  /** The conditions joined by AND, without "WHERE" ("1" when there is none). */
  condition: string
  params: QueryParams
}

/** The time role filters and rates read: the ingest time, else the event time. */
export function filterTimeRole(profile: ProfileSql): Role | undefined {
  return profile.first('ingest_time', 'event_time')
}

function need(profile: ProfileSql, role: Role | undefined, flag: string): Role {
  if (role && profile.has(role)) return role
  throw usageError(missingRole(profile.profile, (role ?? 'ingest_time') as Role, flag))
}

/**
 * The SQL condition for some filters, over the table's own columns as the
 * profile maps them: every value is a `{name:Type}` placeholder, bound
 * server-side where the server has query parameters and escaped by bindParams
 * where it does not. Lists become `expr IN ({p0:String}, {p1:String})`, which
 * ClickHouse 18.16 accepts and which keeps a sort key on the column usable.
 * A time boundary is typed like its column: with DateTime64 it keeps its
 * milliseconds; with second-resolution DateTime it is cut to the second, which
 * errs on the safe side for deletion (`>= since` keeps the second that
 * contains since, `< before` takes only seconds that ended before it).
 */
export function whereClause(filters: Filters, profile: ProfileSql, prefix = 'f'): WhereClause {
  const conditions: string[] = []
  const params: QueryParams = {}
  const inList = (role: Role, flag: string, name: string, values: readonly string[]) => {
    if (values.length === 0) return
    const expr = profile.expr(need(profile, role, flag))
    const placeholders = values.map((value, i) => {
      params[`${prefix}_${name}${i}`] = value
      return `{${prefix}_${name}${i}:String}`
    })
    conditions.push(`${expr} IN (${placeholders.join(', ')})`)
  }

  inList('app', '--app', 'app', filters.apps)
  inList('level', '--level', 'level', filters.levels)
  inList('run_id', '--run-id', 'run', filters.runIds)
  for (const [bound, op, name, flag] of [
    [filters.since, '>=', 'since', '--since'],
    [filters.before, '<', 'before', '--before'],
  ] as const) {
    if (bound === undefined) continue
    const role = need(profile, filterTimeRole(profile), flag)
    const {type, value} = profile.timeParam(role, bound)
    params[`${prefix}_${name}`] = value
    conditions.push(`${profile.expr(role)} ${op} {${prefix}_${name}:${type}}`)
  }

  const condition = conditions.length > 0 ? conditions.join(' AND ') : '1'
  return {condition, params, sql: conditions.length > 0 ? `WHERE ${condition}` : ''}
}

/** One line for people: "app = a, b · level = error · since 2024-05-01T12:00:00.000Z". */
export function describeFilters(filters: Filters): string {
  const parts: string[] = []
  const values = (list: readonly string[]) => list.map((value) => displayText(value, 40)).join(', ')
  if (filters.apps.length > 0) parts.push(`app ∈ {${values(filters.apps)}}`)
  if (filters.levels.length > 0) parts.push(`level ∈ {${values(filters.levels)}}`)
  if (filters.runIds.length > 0) parts.push(`run id ∈ {${values(filters.runIds)}}`)
  if (filters.since !== undefined) parts.push(`time ≥ ${new Date(filters.since).toISOString()}`)
  if (filters.before !== undefined) parts.push(`time < ${new Date(filters.before).toISOString()}`)
  return parts.length > 0 ? parts.join(' · ') : 'all rows'
}
