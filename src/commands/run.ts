import {Flags} from '@oclif/core'

import {BaseCommand, profileFlags, storeFlags} from '../base-command.js'
import {environmentError, usageError} from '../lib/errors.js'
import {onParentGone, waitForGo} from '../lib/load/workers/barrier.js'
import {parseLoadFlags, withToken} from '../lib/load/settings.js'
import {encodeEvent} from '../lib/load/workers/events.js'
import type {RunResult} from '../lib/load/result/types.js'
import {runSession} from '../lib/load/session/session.js'
import type {AnalysisResult} from '../lib/analyze/index.js'
import {int, seconds} from '../lib/report/format.js'
import {writeHtmlReport} from '../lib/report/html/file.js'
import {renderRun} from '../lib/report/load.js'
import {createProgress, type ProgressMode} from '../lib/report/progress.js'
import {parseColumnFlags} from '../lib/store/index.js'

/** Flags shared by run and parallel (parallel imports them from here). */
export const loadFlags = {
  target: Flags.string({
    description: 'URL to POST batches to; a bare origin posts to /api/logs/batch (or the default path of --protocol). Without it logbench starts its own serve on a free loopback port, storing into the store flags, and verifies there',
    helpGroup: 'TARGET',
  }),
  header: Flags.string({description: "extra request header, 'Name: value' (repeatable)", helpGroup: 'TARGET', multiple: true}),
  protocol: Flags.string({
    description:
      'wire protocol: json (the --payload shapes of an ingest API), otlp (OTLP/HTTP logs, /v1/logs), loki (Loki push, /loki/api/v1/push) or elasticsearch (_bulk); a bare --target origin posts to its default path [default: json]',
    helpGroup: 'TARGET',
  }),
  payload: Flags.string({description: 'json protocol: a JSON array, {"logs": [...]} (wrapped) or NDJSON [default: array]', helpGroup: 'TARGET', options: ['array', 'wrapped', 'ndjson']}),
  'otlp-encoding': Flags.string({description: 'otlp protocol: protobuf or json (the OTLP JSON mapping) [default: protobuf]', helpGroup: 'TARGET'}),
  'loki-shards': Flags.integer({description: 'loki protocol: values of an extra stream label "shard", for more streams (apps x levels x N) [default: 1]', helpGroup: 'TARGET'}),
  'es-index': Flags.string({description: 'elasticsearch protocol: index or data stream of every document [default: logbench]', helpGroup: 'TARGET'}),
  'batch-size': Flags.integer({default: 1000, description: 'logs per request', max: 1_000_000, min: 1}),
  duration: Flags.string({description: 'send for this long (30s, 2m; a bare number is seconds) instead of a number of logs'}),
  concurrency: Flags.integer({default: 4, description: 'closed model: batches in flight per worker (a new one goes when one is answered)', min: 1}),
  rate: Flags.integer({description: 'open model: logs per second to send whatever the answers (latency is then measured from the intended send time)', min: 1}),
  'max-in-flight': Flags.integer({default: 128, description: 'open model: batches outstanding at most per worker (late ones keep accruing latency)', min: 1}),
  timeout: Flags.string({default: '30s', description: 'time allowed for an answer'}),
  retries: Flags.integer({default: 5, description: 'retries of a batch after 429/502/503/504, a timeout or a dropped connection (exponential back-off with jitter, Retry-After honoured)', min: 0}),
  seed: Flags.integer({default: 1, description: 'seed of the synthetic logs: same seed, same logs', max: 4_294_967_295, min: 0, helpGroup: 'LOGS'}),
  template: Flags.string({
    description: 'a JSON file shaping each log with the user\'s field names and nesting: placeholders {{app}}, {{level}}, {{message}}, {{source}}, {{timestamp}} (:iso, :ms, :s, :ns), {{run_id}}, {{seq}}, {{id:N}} beside static fields',
    helpGroup: 'LOGS',
  }),
  'run-id': Flags.string({description: 'run id written into every log (metadata.run_id) [default: run-<time>-<random>]', helpGroup: 'LOGS'}),
  apps: Flags.string({description: 'apps and weights, name:weight,... [default: payment-service, auth-service, api-gateway, notification-service, equal weights]', helpGroup: 'LOGS'}),
  'error-rate': Flags.string({description: 'share of logs replaced by injected errors (0.1 or 10%)', helpGroup: 'LOGS'}),
  threshold: Flags.string({description: 'a check, e.g. "throughput>=20000", "p99<=250ms", "errors==0", "lost==0"; a breach exits 4 (repeatable)', helpGroup: 'CHECKS', multiple: true}),
  verify: Flags.boolean({allowNo: true, default: true, description: 'count the stored rows of the run and compare them with the acknowledgements (needs the own serve, or --clickhouse-url)', helpGroup: 'CHECKS'}),
  'verify-wait': Flags.string({default: '0s', description: 'keep counting up to this long until every acknowledged log is stored (for pipelines that store later)', helpGroup: 'CHECKS'}),
  interval: Flags.string({default: '1s', description: 'width of one timeline interval (sent, acked, errors, latency, CPU, ClickHouse per interval)', helpGroup: 'OUTPUT'}),
  report: Flags.string({description: 'write the HTML report (charts over time, verdict) to this file', helpGroup: 'OUTPUT'}),
}

export default class Run extends BaseCommand {
  static summary = 'Run one load-generating worker: synthesise logs, POST them in batches, measure, verify.'
  static description = `Logs are synthesised on the fly from --seed in constant memory, whatever --logs is: the same seed gives byte-identical logs. Every log carries its run id and seq (metadata.run_id and metadata.seq in the default shape; where a --template puts them; the logbench.run_id and logbench.seq attributes in OTLP), so what was acknowledged can be checked against what was stored. With --protocol, run speaks OTLP/HTTP, Loki push or Elasticsearch _bulk, and counts acknowledgements per record (OTLP partialSuccess, _bulk item statuses; 429 items are sent again alone).

Closed model by default (--concurrency batches in flight); open model with --rate logs/s, where latency runs from each batch's intended send time, so a stalled server shows in the percentiles (no coordinated omission). Latencies go into an HDR histogram (p50, p90, p99, p99.9, max); errors are counted by class (timeout, reset, refused, http_<status>); retries are counted apart and an acknowledgement is never counted twice.

Without --target, logbench starts its own serve on a free loopback port over the store flags (the embedded engine by default), and after the run prints how many acknowledged logs were stored, and a short analysis. Exit codes: 0 ok, 2 usage, 3 target or store unreachable, 4 a check failed (missing logs, threshold), 130 interrupted (the partial report is printed).`

  static examples = [
    {command: '<%= config.bin %> run', description: 'Zero set-up: 100,000 logs through an embedded serve, verified'},
    {command: '<%= config.bin %> run --target http://127.0.0.1:3000 --logs 2000000 --clickhouse-url http://127.0.0.1:8123', description: "The guide's single worker against a running serve, verified in ClickHouse"},
    {command: '<%= config.bin %> run --target http://127.0.0.1:3000 --rate 50000 --duration 10s', description: 'Open model: 50,000 logs/s for 10 s'},
    {command: "<%= config.bin %> run --target https://api.example.com/logs/batch --payload wrapped --header 'Authorization: Bearer TOKEN'", description: "Someone else's ingest API"},
    {
      command: '<%= config.bin %> run --protocol otlp --target http://127.0.0.1:4318 --clickhouse-url http://127.0.0.1:8123 --database otel --table otel_logs --verify-wait 30s',
      description: "An OpenTelemetry collector (OTLP/HTTP protobuf to /v1/logs), verified in the ClickHouse exporter's otel_logs",
    },
    {command: '<%= config.bin %> run --target http://127.0.0.1:3000 --template entry.json --payload ndjson', description: 'Your own field names and nesting: a JSON body template with placeholders'},
    {command: "<%= config.bin %> run --logs 200000 --threshold 'throughput>=20000' --threshold 'p99<=250ms' --json > result.json", description: 'CI gate'},
  ]

  static flags = {
    logs: Flags.integer({description: 'logs to send [default: 100000 unless --duration]', exclusive: ['duration'], min: 1}),
    ...loadFlags,
    events: Flags.boolean({description: 'print NDJSON events (start, progress, result) on stdout, for logbench parallel', helpGroup: 'WORKER'}),
    'worker-index': Flags.integer({default: 0, description: 'this worker\'s index among --worker-count (e.g. a Kubernetes JOB_COMPLETION_INDEX): its logs get disjoint seqs', helpGroup: 'WORKER', min: 0}),
    'worker-count': Flags.integer({default: 1, description: 'number of workers sharing the run id', helpGroup: 'WORKER', min: 1}),
    barrier: Flags.boolean({description: 'after the ready event, wait for "go" on stdin', helpGroup: 'WORKER', hidden: true}),
    'progress-interval': Flags.integer({default: 1000, description: 'ms between progress updates', helpGroup: 'WORKER', hidden: true, min: 50}),
    ...storeFlags,
    ...profileFlags,
  }

  private events = false

  async run(): Promise<RunResult & {analysis?: AnalysisResult}> {
    const {flags} = await this.parse(Run)
    this.events = flags.events
    const settings = withToken(parseLoadFlags(flags), this.env.token)
    if (flags['worker-index'] >= flags['worker-count']) throw usageError(`--worker-index ${flags['worker-index']} must be below --worker-count ${flags['worker-count']}`)
    const logs = flags.logs ?? (settings.durationMs === undefined ? 100_000 : undefined)
    const worker = {count: flags['worker-count'], index: flags['worker-index']}
    const emit = (line: string) => process.stdout.write(line)
    const mode: ProgressMode = flags.events || this.jsonEnabled() ? 'none' : process.stderr.isTTY ? 'tty' : 'plain'
    const progress = createProgress({intervalMs: 2000, mode, stream: process.stderr, workers: 1})
    const {signal} = this.abortController
    let outcome
    try {
      outcome = await runSession({
        analyze: !flags.events,
        columns: parseColumnFlags(flags.column),
        beforeSend: async (target) => {
          if (!flags.events) return true
          emit(encodeEvent('start', {pid: process.pid, plannedDurationMs: settings.durationMs, plannedLogs: logs, runId: settings.runId, target: target.href, worker}))
          if (!flags.barrier) return true
          emit(encodeEvent('ready', {worker: worker.index}))
          const go = await waitForGo(process.stdin, signal)
          if (go) {
            onParentGone(process.stdin, () => this.abortController.abort(new Error('the parallel process is gone')))
            // Nobody reads our events any more: writing them must not crash the worker.
            process.stdout.on('error', () => {})
          }

          return go
        },
        log: (line) => process.stderr.write(`serve: ${line}\n`),
        logs,
        onSent(sent) {
          const detail = `${int(sent.logs.acked)} logs acknowledged in ${seconds(sent.durationMs)} (${int(sent.throughput.logsPerSecond)} logs/s)`
          progress.finish(0, sent.stopReason === 'unreachable' ? 'failed' : sent.interrupted ? 'interrupted' : 'ok', detail)
        },
        onProgress: (snapshot) => {
          if (flags.events) emit(encodeEvent('progress', {...snapshot, worker: worker.index}))
          else progress.update(0, snapshot)
        },
        progressIntervalMs: flags.events ? Math.min(flags['progress-interval'], 500) : flags['progress-interval'],
        settings,
        signal,
        storeOptions: this.storeOptions(flags),
        warn: (line) => process.stderr.write(`warning: ${line}\n`),
        worker,
      })
    } finally {
      await progress.stop()
    }

    if (!outcome) {
      // The parent gave up before releasing the barrier: nothing was sent.
      this.markInterrupted()
      throw Object.assign(new Error('stopped before sending'), {name: 'AbortError'})
    }

    const {result} = outcome
    if (flags.events) emit(encodeEvent('result', {result}))
    if (flags.report) await writeHtmlReport(flags.report, result)
    if (outcome.unreachable) {
      throw environmentError(outcome.unreachable, 'start the ingest endpoint (e.g. "logbench serve"), check --target, or leave --target out to use an embedded serve')
    }

    if (!flags.events && !this.jsonEnabled()) {
      this.log(renderRun(result, {analysis: outcome.analysis, stack: outcome.stack, verificationNote: outcome.verificationNote}))
      for (const reason of outcome.verdict.reasons) process.stderr.write(`check failed: ${reason}\n`)
    }

    if (result.interrupted) this.markInterrupted()
    else this.endChecks(outcome.verdict)
    return outcome.analysis ? {...result, analysis: outcome.analysis} : result
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<void> {
    if (this.events && error.name !== 'AbortError') {
      const exitCode = (error as {exitCode?: number}).exitCode ?? 1
      process.stdout.write(
        encodeEvent('error', {error: {exitCode, kind: (error as {kind?: string}).kind ?? 'internal', message: error.message, suggestion: (error as {suggestion?: string}).suggestion}}),
      )
    }

    return super.catch(error)
  }
}
