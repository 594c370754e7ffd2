import {missingRole, profileSql, type ProfileOverrides, type ProfileSql, type Role, type Store, summarizeProfile} from '../store/index.js'

import {environmentError, usageError} from '../errors.js'
import {makeContext, type ReportContext, type ReportOptions} from './context.js'
import {appsReport, levelsReport, runsReport, totalReport} from './counts.js'
import {filtersJson} from './filters.js'
import {lagReport} from './lag.js'
import {ratesReport} from './rates.js'
import {partitionsReport, sizeReport} from './storage.js'
import {type AnalysisResult, REPORT_NAMES, type ReportData, type ReportName, type SkippedReport, type StoreSummary} from './types.js'

export * from './context.js'
export * from './filters.js'
export {bucketCount, chooseBucketMs, summarizeRates} from './rates.js'
export * from './time.js'
export * from './types.js'

const RUNNERS: {[K in ReportName]: (ctx: ReportContext) => Promise<ReportData[K]>} = {
  apps: appsReport,
  lag: lagReport,
  levels: levelsReport,
  partitions: partitionsReport,
  rates: ratesReport,
  runs: runsReport,
  size: sizeReport,
  total: totalReport,
}

export function isReportName(name: string): name is ReportName {
  return (REPORT_NAMES as readonly string[]).includes(name)
}

/** Report names from the command line; none means all of them (the overview). Duplicates are dropped, order is kept. */
export function parseReportNames(names: readonly string[]): ReportName[] {
  if (names.length === 0) return [...REPORT_NAMES]
  const out: ReportName[] = []
  for (const name of names) {
    if (!isReportName(name)) {
      throw usageError(`"${name}" is not a report`, `reports: ${REPORT_NAMES.join(', ')} (none for an overview of all)`)
    }

    if (!out.includes(name)) out.push(name)
  }

  return out
}

export function storeSummary(store: Store): StoreSummary {
  const {info} = store
  return {database: info.database, kind: info.kind, location: info.location, table: info.table, version: info.version.text}
}

/** The roles each report needs: every inner list must have one of its roles mapped. */
export const REPORT_NEEDS: Record<ReportName, Role[][]> = {
  apps: [['app']],
  lag: [['event_time'], ['ingest_time']],
  levels: [['level']],
  partitions: [],
  rates: [['ingest_time', 'event_time']],
  runs: [['run_id'], ['ingest_time', 'event_time']],
  size: [],
  total: [],
}

/** Why a report cannot run on this table, or undefined when it can. */
export function unmetNeed(profile: ProfileSql, name: ReportName): SkippedReport | undefined {
  const role = profile.lacking(REPORT_NEEDS[name])
  return role ? {flag: `--column ${role}=COLUMN`, reason: missingRole(profile.profile, role, `the ${name} report`), report: name} : undefined
}

export interface AnalyzeOptions {
  signal?: AbortSignal
  /** --column overrides of the table profile. */
  columns?: ProfileOverrides
  /** The overview: reports the table cannot give are skipped with their reason instead of failing. */
  skipUnsupported?: boolean
}

/**
 * Run the named reports against a store, one after the other (the embedded
 * engine runs one query at a time anyway, and a server under a load test has
 * better things to do), through the table's profile.
 */
export async function analyze(store: Store, names: readonly ReportName[], options: ReportOptions, run: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const {signal} = run
  if (!(await store.schemaExists())) {
    throw environmentError(
      `table ${store.info.database}.${store.info.table} does not exist in ${store.info.kind === 'server' ? 'ClickHouse at ' : 'the embedded engine in '}${store.info.location}`,
      'store some logs first ("logbench serve" creates the table; "logbench parallel" fills it), or check --database / --table',
    )
  }

  const profile = await profileSql(store, run.columns, signal)
  const ctx = makeContext(store, profile, options, signal)
  const reports: Partial<ReportData> = {}
  const skipped: SkippedReport[] = []
  for (const name of names) {
    signal?.throwIfAborted()
    const unmet = unmetNeed(profile, name)
    if (unmet) {
      if (!run.skipUnsupported) throw usageError(unmet.reason)
      skipped.push(unmet)
      continue
    }

    ;(reports as Record<ReportName, unknown>)[name] = await RUNNERS[name](ctx)
  }

  return {
    filters: filtersJson(options.filters),
    generatedAt: new Date().toISOString(),
    profile: summarizeProfile(profile.profile),
    reports,
    skipped,
    store: storeSummary(store),
  }
}
