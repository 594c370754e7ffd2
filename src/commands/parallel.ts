import {Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand, profileFlags, storeFlags} from '../base-command.js'
import {environmentError, usageError} from '../lib/errors.js'
import {parseLoadFlags, withToken} from '../lib/load/settings.js'
import type {AggregateResult} from '../lib/load/result/types.js'
import {parallelSession} from '../lib/load/session/session.js'
import {nodeSpawner, workerNodeFlags} from '../lib/load/workers/spawn.js'
import type {AnalysisResult} from '../lib/analyze/index.js'
import {int, seconds} from '../lib/report/format.js'
import {writeHtmlReport} from '../lib/report/html/file.js'
import {renderAggregate} from '../lib/report/load.js'
import {createProgress, type ProgressMode} from '../lib/report/progress.js'
import {parseColumnFlags} from '../lib/store/index.js'
import {loadFlags} from './run.js'

export default class Parallel extends BaseCommand {
  static summary = "Fork N workers (separate processes), show their progress, and aggregate their results: the guide's parallel test."
  static description = `Each worker is a "logbench run --events" process; the work (--logs-per-worker, or --logs in total, and --rate) is split exactly and every worker gets a disjoint range of sequence numbers under one run id. Workers start together once all are ready. Their results are aggregated by adding counters and merging latency histograms, never by averaging percentiles, and printed as the guide's report: configuration, per-worker table, total duration, aggregate throughput, average per worker, assessment.

Without --target, logbench starts its own serve on a free loopback port over the store flags (the embedded engine by default), verifies that every acknowledged log was stored, and prints a short analysis. A worker that dies is reported with its error and the others still count (exit 4). Ctrl+C stops every worker, prints the partial aggregate and exits 130; no worker process is left behind.`

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
    workers: Flags.integer({char: 'w', default: 4, description: 'worker processes', max: 256, min: 1}),
    'logs-per-worker': Flags.integer({description: 'logs each worker sends [default: 2000000 unless --logs or --duration]', exclusive: ['logs', 'duration'], min: 1}),
    logs: Flags.integer({description: 'logs in total, split exactly over the workers', exclusive: ['logs-per-worker', 'duration'], min: 1}),
    ...loadFlags,
    rate: Flags.integer({description: 'open model: logs per second in total, split exactly over the workers (latency from the intended send time)', min: 1}),
    ...storeFlags,
    ...profileFlags,
  }

  async run(): Promise<AggregateResult & {analysis?: AnalysisResult}> {
    const {flags} = await this.parse(Parallel)
    const settings = withToken(parseLoadFlags(flags), this.env.token)
    if (flags.logs !== undefined && flags.logs < flags.workers) throw usageError(`--logs ${flags.logs} is fewer than one log for each of ${flags.workers} workers`)
    const logsPerWorker = flags['logs-per-worker'] ?? (flags.logs === undefined && settings.durationMs === undefined ? 2_000_000 : undefined)
    const mode: ProgressMode = this.jsonEnabled() ? 'none' : process.stderr.isTTY ? 'tty' : 'plain'
    const progress = createProgress({intervalMs: 2000, mode, stream: process.stderr, workers: flags.workers})
    const binPath = path.join(this.config.root, 'bin', 'run.js')
    let outcome
    try {
      outcome = await parallelSession({
        analyze: true,
        columns: parseColumnFlags(flags.column),
        log: (line) => process.stderr.write(`serve: ${line}\n`),
        logsPerWorker,
        onEvent(worker, event) {
          if (event.type === 'progress') progress.update(worker, event)
        },
        onExit(worker, report) {
          const detail =
            report.status === 'failed'
              ? (report.error ?? 'failed')
              : `${int(report.logs.acked)} logs in ${seconds(report.durationMs)} (${int(report.logsPerSecond)} logs/s)`
          progress.finish(worker, report.status, detail)
        },
        onTarget(target, description) {
          progress.note(`${flags.workers} workers → ${target.href}${description ? ` (${description})` : ''}`)
        },
        settings,
        signal: this.abortController.signal,
        spawn: nodeSpawner({binPath, nodeFlags: workerNodeFlags(settings.rate === undefined ? settings.concurrency : settings.maxInFlight)}),
        storeOptions: this.storeOptions(flags),
        totalLogs: flags.logs,
        warn: (line) => process.stderr.write(`warning: ${line}\n`),
        workers: flags.workers,
      })
    } finally {
      await progress.stop()
    }

    const {result} = outcome
    if (flags.report) await writeHtmlReport(flags.report, result)
    if (outcome.unreachable) {
      throw environmentError(outcome.unreachable, 'start the ingest endpoint (e.g. "logbench serve"), check --target, or leave --target out to use an embedded serve')
    }

    if (!this.jsonEnabled()) {
      this.log(renderAggregate(result, {analysis: outcome.analysis, stack: outcome.stack, verificationNote: outcome.verificationNote}))
      for (const reason of outcome.verdict.reasons) process.stderr.write(`check failed: ${reason}\n`)
    }

    if (result.interrupted) this.markInterrupted()
    else this.endChecks(outcome.verdict)
    return outcome.analysis ? {...result, analysis: outcome.analysis} : result
  }
}
