import {usageError} from '../errors.js'
import {displayText} from '../format/units.js'
import {epochMsExpr, type Capabilities, type Level, LEVELS, type QueryParams} from '../store/index.js'
import {parseTime} from './time.js'

/** Row filters shared by the reports and by cleanup. Times are epoch ms. */
export interface Filters {
  /** created_at >= since */
  since?: number
  /** created_at < before */
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

/**
 * A boundary on created_at as a typed parameter. With DateTime64(3) columns the
 * boundary keeps its milliseconds. With second-resolution DateTime it is cut to
 * the second, which errs on the safe side for deletion: `>= since` keeps the
 * second that contains since, and `< before` takes only seconds that ended
 * before `before` (a row stamped 12:00:00 may have arrived at 12:00:00.999).
 */
function timeParam(ms: number, caps: Pick<Capabilities, 'dateTime64'>): {type: string; value: string | number} {
  const seconds = Math.floor(ms / 1000)
  if (caps.dateTime64) return {type: 'DateTime64(3)', value: `${seconds}.${String(ms - seconds * 1000).padStart(3, '0')}`}
  return {type: 'DateTime', value: seconds}
}

export interface WhereClause {
  /** "WHERE …" or "" when there is no filter. */
  sql: string
  /** The conditions joined by AND, without "WHERE" ("1" when there is none). */
  condition: string
  params: QueryParams
}

/**
 * The SQL condition for some filters: every value is a `{name:Type}`
 * placeholder, bound server-side where the server has query parameters and
 * escaped by bindParams where it does not. Lists become `col IN ({p0:String},
 * {p1:String})`, which ClickHouse 18.16 accepts and which keeps the primary
 * key usable (app_id and level lead the sort key).
 */
export function whereClause(filters: Filters, caps: Pick<Capabilities, 'dateTime64'>, prefix = 'f'): WhereClause {
  const conditions: string[] = []
  const params: QueryParams = {}
  const inList = (column: string, name: string, values: readonly string[]) => {
    if (values.length === 0) return
    const placeholders = values.map((value, i) => {
      params[`${prefix}_${name}${i}`] = value
      return `{${prefix}_${name}${i}:String}`
    })
    conditions.push(`${column} IN (${placeholders.join(', ')})`)
  }

  inList('app_id', 'app', filters.apps)
  inList('level', 'level', filters.levels)
  inList('run_id', 'run', filters.runIds)
  if (filters.since !== undefined) {
    const {type, value} = timeParam(filters.since, caps)
    params[`${prefix}_since`] = value
    conditions.push(`created_at >= {${prefix}_since:${type}}`)
  }

  if (filters.before !== undefined) {
    const {type, value} = timeParam(filters.before, caps)
    params[`${prefix}_before`] = value
    conditions.push(`created_at < {${prefix}_before:${type}}`)
  }

  const condition = conditions.length > 0 ? conditions.join(' AND ') : '1'
  return {condition, params, sql: conditions.length > 0 ? `WHERE ${condition}` : ''}
}

/** created_at in epoch ms, for every report that shows times. */
export function createdMs(caps: Pick<Capabilities, 'dateTime64'>, column = 'created_at'): string {
  return epochMsExpr(column, caps)
}

/** The precision of stored times: 1 ms with DateTime64(3), 1 s with DateTime. */
export function timeResolutionMs(caps: Pick<Capabilities, 'dateTime64'>): number {
  return caps.dateTime64 ? 1 : 1000
}

/** One line for people: "app = a, b · level = error · since 2024-05-01T12:00:00.000Z". */
export function describeFilters(filters: Filters): string {
  const parts: string[] = []
  const values = (list: readonly string[]) => list.map((value) => displayText(value, 40)).join(', ')
  if (filters.apps.length > 0) parts.push(`app_id ∈ {${values(filters.apps)}}`)
  if (filters.levels.length > 0) parts.push(`level ∈ {${values(filters.levels)}}`)
  if (filters.runIds.length > 0) parts.push(`run_id ∈ {${values(filters.runIds)}}`)
  if (filters.since !== undefined) parts.push(`created_at ≥ ${new Date(filters.since).toISOString()}`)
  if (filters.before !== undefined) parts.push(`created_at < ${new Date(filters.before).toISOString()}`)
  return parts.length > 0 ? parts.join(' · ') : 'all rows'
}
