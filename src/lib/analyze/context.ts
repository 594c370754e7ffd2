import type {ProfileSql, QueryParams, Store} from '../store/index.js'

import {usageError} from '../errors.js'
import {type Filters, parseFilters, type RawFilters, whereClause, type WhereClause} from './filters.js'
import {parseDuration} from './time.js'

export interface ReportOptions {
  filters: Filters
  /** Bucket of the rates report in ms; absent: chosen from the span of the data. */
  bucketMs?: number
  /** Most rows shown by apps, runs and partitions. */
  limit: number
  /** size: add the per-column breakdown. */
  columns: boolean
}

/** Report options as text (flags, URL query strings). */
export interface RawReportOptions extends RawFilters {
  bucket?: string
  limit?: string | number
  columns?: boolean
}

export const DEFAULT_LIMIT = 20
export const MAX_LIMIT = 100_000

export function parseReportOptions(raw: RawReportOptions, now = Date.now()): ReportOptions {
  const options: ReportOptions = {columns: raw.columns ?? false, filters: parseFilters(raw, now), limit: DEFAULT_LIMIT}
  if (raw.bucket !== undefined) options.bucketMs = parseDuration(raw.bucket, '--bucket')
  if (raw.limit !== undefined) {
    const limit = typeof raw.limit === 'number' ? raw.limit : /^\d+$/.test(raw.limit.trim()) ? Number(raw.limit) : Number.NaN
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw usageError(`--limit "${raw.limit}" must be a whole number from 1 to ${MAX_LIMIT}`)
    }

    options.limit = limit
  }

  return options
}

/** Everything a report needs: the store, the table profile, the bound filter condition, the options. */
export interface ReportContext {
  store: Store
  /** The roles of the table's columns, as SQL. */
  profile: ProfileSql
  options: ReportOptions
  where: WhereClause
  signal?: AbortSignal
  /** Run a query with the filter parameters plus the report's own. */
  query<T>(sql: string, params?: QueryParams): Promise<T[]>
}

export function makeContext(store: Store, profile: ProfileSql, options: ReportOptions, signal?: AbortSignal): ReportContext {
  const where = whereClause(options.filters, profile)
  return {
    options,
    profile,
    query: <T>(sql: string, params: QueryParams = {}) => store.query<T>(sql, {...where.params, ...params}, {signal}),
    signal,
    store,
    where,
  }
}

/** A LIMIT for "n rows and tell me whether there were more": a validated integer, never text from the user. */
export function limitPlusOne(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError(`bad limit ${limit}`)
  return `LIMIT ${limit + 1}`
}
