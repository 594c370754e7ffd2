import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {profileFlags, storeFlags} from '../flags.js'
import {
  analyze,
  type AnalysisResult,
  parseDuration,
  parseReportNames,
  parseReportOptions,
  REPORT_DESCRIPTIONS,
  REPORT_NAMES,
  type ReportName,
} from '../lib/analyze/index.js'
import {fetchReports} from '../lib/analyze/http.js'
import {renderAnalysis, reportCsv} from '../lib/analyze/render.js'
import {repeatUntilAborted} from '../lib/analyze/watch.js'
import {exitCodesHelp, LogbenchError, usageError} from '../lib/errors.js'
import {openStore, parseColumnFlags, type Store} from '../lib/store/index.js'

const listFlag = (description: string) =>
  Flags.string({delimiter: ',', description, helpGroup: 'FILTERS', multiple: true, multipleNonGreedy: true})

export default class Analyze extends BaseCommand {
  static summary = "Report on stored logs: the guide's SQL reports (total, apps, levels, rates, size, partitions) plus runs and lag, done right."
  static description = `Runs the named reports (all of them when none is named) against a ClickHouse server (--clickhouse-url or CLICKHOUSE_URL), the embedded engine (--data-dir), or a running "logbench serve" (--target), and prints tables, --json or --csv.

Reports:
${REPORT_NAMES.map((name) => `  ${name.padEnd(12)}${REPORT_DESCRIPTIONS[name]}`).join('\n')}

Every report reads the table through its profile: the columns (or keys inside a JSON or Map column) that hold the event time, ingest time, app, level, message, source, run id and seq, detected from the columns or given with --column. The overview skips a report the table has no column for, saying which --column flag would supply it; a report named on the command line that cannot run exits 2.

rates counts logs in buckets of the ingest time (--bucket; by default the smallest of 1s, 2s, 5s, 10s, … that shows the data's span in at most 60 buckets) and gives each bucket its own per-second rate, so a burst is not hidden in a per-minute average. size fixes the guide's query, whose alias "rows" shadows the column inside sum(). Filters are bound as query parameters, never pasted into SQL. Times are UTC.

${exitCodesHelp([0, 1, 2, 3, 130])}`

  static examples = [
    {command: '<%= config.bin %> analyze', description: 'An overview of every report'},
    {command: '<%= config.bin %> analyze rates --since 30m --bucket 10s', description: 'Ingestion rate of the last 30 minutes in 10-second buckets, with a chart'},
    {command: '<%= config.bin %> analyze apps levels --run-id 7f3a --json', description: 'Logs per app and level of one run, as JSON'},
    {command: '<%= config.bin %> analyze size --columns', description: 'Table size with the per-column breakdown'},
    {command: '<%= config.bin %> analyze total rates --watch 2s', description: 'Redraw every 2 seconds during a load test (Ctrl+C stops)'},
    {command: '<%= config.bin %> analyze runs --csv > runs.csv', description: 'One report as CSV'},
    {command: '<%= config.bin %> analyze --target http://127.0.0.1:3000', description: 'Ask a running serve (it holds the embedded data directory)'},
  ]

  static strict = true

  static args = {
    reports: Args.string({
      description: `reports to run (${REPORT_NAMES.join(', ')}); none for an overview of all`,
      ignoreStdin: true,
      multiple: true,
      required: false,
    }),
  }

  static flags = {
    ...storeFlags,
    ...profileFlags,
    target: Flags.string({
      description: 'read the reports from a running "logbench serve" at this URL (GET <url>/api/reports/<name>) instead of opening the store',
      helpGroup: 'STORAGE',
    }),
    since: Flags.string({
      description: 'only logs stored (ingest time, else event time) at or after this time: 30m, 2h, 1d (ago), ISO-8601 (UTC when no zone), epoch seconds or ms',
      helpGroup: 'FILTERS',
    }),
    app: listFlag('only these apps (repeat the flag or separate with commas)'),
    level: listFlag('only these levels: debug, info, warn, error, fatal (repeat or separate with commas)'),
    'run-id': listFlag('only these run ids (repeat or separate with commas)'),
    bucket: Flags.string({description: 'rates: bucket width, e.g. 1s, 10s, 1m [default: from the span of the data, 1s for short runs]'}),
    limit: Flags.integer({default: 20, description: 'apps, runs, partitions: most rows shown', max: 100_000, min: 1}),
    columns: Flags.boolean({description: 'size: add the per-column breakdown (compressed and uncompressed bytes, ratio)'}),
    chart: Flags.boolean({allowNo: true, default: true, description: 'rates: draw the chart of logs/s (--no-chart to leave it out)'}),
    csv: Flags.boolean({description: 'print one report as CSV in base units (rows, bytes, ms, ISO-8601)'}),
    watch: Flags.string({description: 'run again every interval (1s, 2s, …) and redraw, until Ctrl+C'}),
  }

  async run(): Promise<AnalysisResult> {
    const {args, flags} = await this.parse(Analyze)
    const names = parseReportNames(args.reports ?? [])
    const json = this.jsonEnabled()
    const raw = {
      apps: flags.app,
      bucket: flags.bucket,
      columns: flags.columns,
      levels: flags.level,
      limit: flags.limit,
      runIds: flags['run-id'],
      since: flags.since,
    }
    parseReportOptions(raw) // refuse bad input before opening anything
    if (flags.csv && json) throw usageError('--csv and --json cannot be used together')
    if (flags.csv && names.length !== 1) throw usageError(`--csv prints one report, not ${names.length}`, 'name it, e.g. "logbench analyze rates --csv"')
    const watchMs = flags.watch === undefined ? undefined : parseDuration(flags.watch, '--watch')
    if (watchMs !== undefined && (json || flags.csv)) throw usageError('--watch redraws tables for people: it cannot be combined with --json or --csv')
    if (flags.target && flags['clickhouse-url']) throw usageError('pass either --target (a running serve) or --clickhouse-url, not both')
    const columns = parseColumnFlags(flags.column)
    if (flags.target && flags.column) throw usageError('--column describes a table read directly: a serve reports on its own table', 'leave out --column, or read your table with --clickhouse-url')
    // The overview skips what the table cannot give; a report asked for by name must run.
    const skipUnsupported = (args.reports ?? []).length === 0

    let store: Store | undefined
    const signal = this.abortController.signal
    const produce = async (): Promise<AnalysisResult> => {
      const options = parseReportOptions(raw) // again each time: "--since 30m" slides with --watch
      if (flags.target) {
        const headers: Record<string, string> = this.env.token ? {authorization: `Bearer ${this.env.token}`} : {}
        return fetchReports(flags.target, names, options, {headers, signal})
      }

      store ??= await openStore(this.storeOptions(flags))
      return analyze(store, names, options, {columns, signal, skipUnsupported})
    }

    const render = (result: AnalysisResult) =>
      renderAnalysis(result, {chart: flags.chart, compact: names.length > 1, width: process.stdout.isTTY ? process.stdout.columns || 80 : 80})

    try {
      if (watchMs === undefined) {
        const result = await produce()
        if (flags.csv) process.stdout.write(reportCsv(result, names[0] as ReportName))
        else if (!json) this.log(render(result))
        return result
      }

      let last: AnalysisResult | undefined
      const tty = Boolean(process.stdout.isTTY)
      await repeatUntilAborted(watchMs, signal, async () => {
        last = await produce()
        const footer = `every ${flags.watch} · Ctrl+C to stop`
        process.stdout.write((tty ? '\u001B[H\u001B[2J' : '') + render(last) + `\n${footer}\n` + (tty ? '' : '\n'))
      })
      if (!last) throw new LogbenchError('interrupted', 'interrupted before the first report')
      return last
    } finally {
      await store?.close()
    }
  }
}
