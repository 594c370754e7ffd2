import {Flags} from '@oclif/core'
import path from 'node:path'

import type {AnalysisResult} from '../lib/analyze/index.js'
import type {AggregateResult} from '../lib/load/result/types.js'

import {BaseCommand} from '../base-command.js'
import {loadFlags, profileFlags, recordFlags, storeFlags} from '../flags.js'
import {parseTags} from '../lib/history/index.js'
import {exitCodesHelp} from '../lib/errors.js'
import {int, seconds} from '../lib/format/units.js'
import {parallelSession} from '../lib/load/session/parallel-session.js'
import {DEFAULTS, outstandingOf, parseLoadFlags, withToken} from '../lib/load/settings.js'
import {nodeSpawner, workerNodeFlags} from '../lib/load/workers/spawn.js'
import {renderAggregate} from '../lib/report/load.js'
import {createProgress} from '../lib/report/progress.js'
import {parseColumnFlags} from '../lib/store/index.js'

export default class Parallel extends BaseCommand {
  static summary = "Fork N workers (separate processes), show their progress, and aggregate their results: the guide's parallel test."
  static description = `Each worker is a "logbench run --events" process; the work (--logs-per-worker, or --logs in total, and --rate) is split exactly and every worker gets a disjoint range of sequence numbers under one run id. Workers start together once all are ready. Their results are aggregated by adding counters and merging latency histograms, never by averaging percentiles, and printed as the guide's report: configuration, per-worker table, total duration, aggregate throughput, average per worker, assessment.

Without --target, logbench starts its own serve on a free loopback port over the store flags (the embedded engine by default), verifies that every acknowledged log was stored, and prints a short analysis. A worker that dies is reported with its error and the others still count (exit 4). Ctrl+C stops every worker, prints the partial aggregate and exits 130; no worker process is left behind.

${exitCodesHelp([0, 1, 2, 3, 4, 5, 130])}`

  static examples = [
    {command: '<%= config.bin %> parallel --workers 4 --logs-per-worker 250000', description: 'Zero set-up: 1,000,000 logs through an embedded serve, verified'},
    {
      command: '<%= config.bin %> parallel --target http://127.0.0.1:3000 --workers 4 --logs-per-worker 2000000 --clickhouse-url http://127.0.0.1:8123',
      description: "The guide's test (4 x 2 M) against a running serve, verified in ClickHouse",
    },
    {command: '<%= config.bin %> parallel --workers 4 --rate 100000 --duration 30s --json > result.json', description: 'Open model: 100,000 logs/s split over 4 workers for 30 s'},
    {
      command: '<%= config.bin %> parallel --workers 4 --target http://127.0.0.1:3000/api/logs/batch --payload wrapped --clickhouse-url http://127.0.0.1:8123 --database guide_db',
      description: "Your own API and table: verified through the table's profile (run id and seq found in its JSON metadata column)",
    },
  ]

  static flags = {
    workers: Flags.integer({char: 'w', default: DEFAULTS.workers, description: 'worker processes', max: 256, min: 1}),
    'logs-per-worker': Flags.integer({description: 'logs each worker sends [default: 2000000 unless --logs or --duration]', exclusive: ['logs', 'duration'], min: 1}),
    logs: Flags.integer({description: 'logs in total, split exactly over the workers', exclusive: ['logs-per-worker', 'duration'], min: 1}),
    ...loadFlags,
    rate: Flags.integer({description: 'open model: logs per second in total, split exactly over the workers (latency from the intended send time)', min: 1}),
    ...storeFlags,
    ...profileFlags,
    ...recordFlags,
  }

  async run(): Promise<AggregateResult & {analysis?: AnalysisResult}> {
    const {flags} = await this.parse(Parallel)
    const settings = withToken(parseLoadFlags(flags), this.env.token)
    const tags = parseTags(flags.tag)
    const progress = createProgress({intervalMs: 2000, mode: this.progressMode, stream: process.stderr, workers: settings.workers})
    let outcome
    try {
      outcome = await parallelSession({
        analyze: true,
        columns: parseColumnFlags(flags.column),
        log: (line) => process.stderr.write(`serve: ${line}\n`),
        onEvent(worker, event) {
          if (event.type === 'progress') progress.update(worker, event)
        },
        onExit(worker, report) {
          const detail = report.status === 'failed' ? (report.error ?? 'failed') : `${int(report.logs.acked)} logs in ${seconds(report.durationMs)} (${int(report.logsPerSecond)} logs/s)`
          progress.finish(worker, report.status, detail)
        },
        onTarget(target, description) {
          progress.note(`${settings.workers} workers → ${target.href}${description ? ` (${description})` : ''}`)
        },
        settings,
        signal: this.abortController.signal,
        spawn: nodeSpawner({binPath: path.join(this.config.root, 'bin', 'run.js'), nodeFlags: workerNodeFlags(outstandingOf(settings))}),
        storeOptions: this.storeOptions(flags),
        warn: (line) => process.stderr.write(`warning: ${line}\n`),
      })
    } finally {
      await progress.stop()
    }

    const record = {command: 'parallel', history: flags.history, historyUrl: flags['history-url'], tags}
    return this.finishLoad(outcome, {record, render: (result, context) => renderAggregate(result, {...context, width: this.terminalWidth}), report: flags.report})
  }
}
