import {request} from 'undici'

import type {Store} from '../store/index.js'

import {environmentError, LogbenchError, messageOf, systemCodeOf, usageError} from '../errors.js'
import {type RawReportOptions, parseReportOptions, type ReportOptions} from './context.js'
import {analyze, isReportName} from './index.js'
import {type AnalysisResult, REPORT_NAMES, type ReportName} from './types.js'

/*
 * Reports over HTTP, for when `serve` holds the embedded engine's directory
 * and no other process may open it. serve mounts reportOverHttp at
 * GET /api/reports/<name>?…; `analyze --target` is its client.
 *
 * Query string (every parameter optional, lists repeat the parameter):
 *   since=<time>  app=<id>  level=<level>  run_id=<id>  bucket=<duration>
 *   limit=<n>  columns=1
 */

const PARAMS = new Set(['since', 'app', 'level', 'run_id', 'bucket', 'limit', 'columns'])

export interface HttpReply {
  status: number
  body: unknown
}

/** URL query parameters -> report options; unknown parameters are refused so a typo never drops a filter. */
export function reportOptionsFromSearchParams(params: URLSearchParams, now = Date.now()): ReportOptions {
  for (const key of params.keys()) {
    if (!PARAMS.has(key)) throw usageError(`unknown query parameter "${key}"`, `use ${[...PARAMS].join(', ')}`)
  }

  const single = (name: string) => {
    const values = params.getAll(name)
    if (values.length > 1) throw usageError(`query parameter "${name}" is given ${values.length} times`)
    return values[0]
  }

  const columns = single('columns')
  if (columns !== undefined && !['', '0', '1', 'true', 'false'].includes(columns)) {
    throw usageError(`columns="${columns}" must be 1, 0, true or false`)
  }

  const raw: RawReportOptions = {
    apps: params.getAll('app'),
    bucket: single('bucket'),
    columns: columns === '' || columns === '1' || columns === 'true',
    levels: params.getAll('level'),
    limit: single('limit'),
    runIds: params.getAll('run_id'),
    since: single('since'),
  }
  return parseReportOptions(raw, now)
}

/** Report options -> the query string reportOptionsFromSearchParams reads (times sent as absolute ISO-8601). */
export function reportOptionsToSearchParams(options: ReportOptions): URLSearchParams {
  const params = new URLSearchParams()
  for (const app of options.filters.apps) params.append('app', app)
  for (const level of options.filters.levels) params.append('level', level)
  for (const runId of options.filters.runIds) params.append('run_id', runId)
  if (options.filters.since !== undefined) params.set('since', new Date(options.filters.since).toISOString())
  if (options.bucketMs !== undefined) params.set('bucket', `${options.bucketMs}ms`)
  params.set('limit', String(options.limit))
  if (options.columns) params.set('columns', '1')
  return params
}

/**
 * One report for an HTTP request, read-only. 200 with the AnalysisResult of
 * that one report; 404 {error} for an unknown report; 400 {error, suggestion}
 * for a bad parameter; 503 when ClickHouse is unusable; 500 otherwise.
 */
export async function reportOverHttp(store: Store, name: string, params: URLSearchParams, signal?: AbortSignal): Promise<HttpReply> {
  if (!isReportName(name)) {
    return {body: {error: `unknown report "${name}"`, reports: [...REPORT_NAMES]}, status: 404}
  }

  try {
    const options = reportOptionsFromSearchParams(params)
    return {body: await analyze(store, [name], options, {signal}), status: 200}
  } catch (error) {
    if (error instanceof LogbenchError) {
      const status = error.kind === 'usage' ? 400 : error.kind === 'environment' ? 503 : 500
      return {body: {error: error.message, ...(error.suggestion ? {suggestion: error.suggestion} : {})}, status}
    }

    return {body: {error: messageOf(error)}, status: 500}
  }
}

/** The base URL of a running serve, checked, without a trailing slash. */
export function parseTarget(target: string): string {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    throw usageError(`--target "${target}" is not a URL`, 'pass the address of a running "logbench serve", e.g. --target http://127.0.0.1:3000')
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--target "${target}" must be an http or https URL`)
  return url.origin + url.pathname.replace(/\/+$/, '')
}

/**
 * The client side of reportOverHttp: fetch each report from a running serve
 * and put them together as one AnalysisResult, exactly as a local analysis.
 */
export async function fetchReports(
  target: string,
  names: readonly ReportName[],
  options: ReportOptions,
  {signal, headers = {}, timeoutMs = 60_000}: {signal?: AbortSignal; headers?: Record<string, string>; timeoutMs?: number} = {},
): Promise<AnalysisResult> {
  const base = parseTarget(target)
  const query = reportOptionsToSearchParams(options).toString()
  let result: AnalysisResult | undefined
  for (const name of names) {
    const url = `${base}/api/reports/${name}?${query}`
    let status: number
    let body: unknown
    try {
      const response = await request(url, {bodyTimeout: timeoutMs, headers: {accept: 'application/json', ...headers}, headersTimeout: timeoutMs, signal})
      status = response.statusCode
      const text = await response.body.text()
      try {
        body = JSON.parse(text)
      } catch {
        body = {error: text.slice(0, 200)}
      }
    } catch (error) {
      if (signal?.aborted) throw error
      throw environmentError(
        `cannot reach logbench serve at ${base} (${systemCodeOf(error) ?? messageOf(error)})`,
        'start it with "logbench serve", check --target, or read the store directly with --clickhouse-url / --data-dir',
        error,
      )
    }

    if (status !== 200) {
      const message = (body as {error?: string})?.error ?? `HTTP ${status}`
      const suggestion = (body as {suggestion?: string})?.suggestion
      if (status === 404 && !(body as {reports?: unknown})?.reports) {
        throw environmentError(`${base} has no report endpoint (GET /api/reports/${name} answered 404)`, 'is it a logbench serve recent enough to serve reports?')
      }

      if (status === 401 || status === 403) {
        throw environmentError(`serve at ${base} refused the request (HTTP ${status})`, 'set LOGBENCH_TOKEN to the token serve was started with')
      }

      if (status === 400 || status === 404) throw usageError(message, suggestion)
      throw environmentError(`serve at ${base} could not run the ${name} report: ${message}`, suggestion)
    }

    const part = body as AnalysisResult
    if (!part || typeof part !== 'object' || !part.reports || !(name in part.reports)) {
      throw environmentError(`serve at ${base} answered GET /api/reports/${name} with something that is not a report`)
    }

    result = result ? {...result, reports: {...result.reports, ...part.reports}} : part
  }

  return result!
}
