import {Flags} from '@oclif/core'

import type {AnalysisResult} from '../lib/analyze/index.js'
import type {RunResult} from '../lib/load/result/types.js'

import {BaseCommand} from '../base-command.js'
import {loadFlags, profileFlags, recordFlags, storeFlags} from '../flags.js'
import {parseTags} from '../lib/history/index.js'
import {exitCodesHelp, usageError} from '../lib/errors.js'
import {runSession} from '../lib/load/session/run-session.js'
import {decodeWorkerSettings, parseLoadFlags, withToken} from '../lib/load/settings.js'
import {workerEmitter} from '../lib/load/workers/emitter.js'
import {int, seconds} from '../lib/format/units.js'
import {renderRun} from '../lib/report/load.js'
import {createProgress} from '../lib/report/progress.js'
import {parseColumnFlags} from '../lib/store/index.js'

export default class Run extends BaseCommand {
  static summary = 'Run one load-generating worker: synthesise logs, POST them in batches, measure, verify.'
  static description = `Logs are synthesised on the fly from --seed in constant memory, whatever --logs is: the same seed gives byte-identical logs. Every log carries its run id and seq (metadata.run_id and metadata.seq in the default shape; where a --template puts them; the logbench.run_id and logbench.seq attributes in OTLP), so what was acknowledged can be checked against what was stored. With --protocol, run speaks OTLP/HTTP, Loki push or Elasticsearch _bulk, and counts acknowledgements per record (OTLP partialSuccess, _bulk item statuses; 429 items are sent again alone).

Closed model by default (--concurrency batches in flight); open model with --rate logs/s, where latency runs from each batch's intended send time, so a stalled server shows in the percentiles (no coordinated omission). Latencies go into an HDR histogram (p50, p90, p99, p99.9, max); errors are counted by class (timeout, reset, refused, http_<status>); retries are counted apart and an acknowledgement is never counted twice.

Without --target, logbench starts its own serve on a free loopback port over the store flags (the embedded engine by default), and after the run prints how many acknowledged logs were stored, and a short analysis.

${exitCodesHelp([0, 1, 2, 3, 4, 5, 130])}`

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
    worker: Flags.boolean({description: 'a worker of logbench parallel: the settings come from the parent', helpGroup: 'WORKER', hidden: true}),
    'progress-interval': Flags.integer({default: 1000, description: 'ms between progress updates', helpGroup: 'WORKER', hidden: true, min: 50}),
    ...storeFlags,
    ...profileFlags,
    ...recordFlags,
  }

  private emitter?: ReturnType<typeof workerEmitter>

  async run(): Promise<RunResult & {analysis?: AnalysisResult}> {
    const {flags} = await this.parse(Run)
    const settings = flags.worker ? decodeWorkerSettings(this.env.workerSettings ?? '') : withToken(parseLoadFlags(flags), this.env.token)
    const tags = parseTags(flags.tag)
    const {signal} = this.abortController
    const emitter = flags.events
      ? (this.emitter = workerEmitter({barrier: flags.barrier, onParentGone: () => this.abortController.abort(new Error('the parallel process is gone')), pid: process.pid, settings, signal, stdin: process.stdin, stdout: process.stdout}))
      : undefined
    const progress = createProgress({intervalMs: 2000, mode: emitter ? 'none' : this.progressMode, stream: process.stderr, workers: 1})
    let outcome
    try {
      outcome = await runSession({
        analyze: !emitter,
        beforeSend: emitter?.beforeSend,
        columns: parseColumnFlags(flags.column),
        log: (line) => process.stderr.write(`serve: ${line}\n`),
        onProgress: (snapshot) => (emitter ? emitter.progress(snapshot) : progress.update(0, snapshot)),
        onSent(sent) {
          const detail = `${int(sent.logs.acked)} logs acknowledged in ${seconds(sent.durationMs)} (${int(sent.throughput.logsPerSecond)} logs/s)`
          progress.finish(0, sent.stopReason === 'unreachable' ? 'failed' : sent.interrupted ? 'interrupted' : 'ok', detail)
        },
        progressIntervalMs: emitter ? Math.min(flags['progress-interval'], 500) : flags['progress-interval'],
        settings,
        signal,
        storeOptions: this.storeOptions(flags),
        warn: (line) => process.stderr.write(`warning: ${line}\n`),
      })
    } finally {
      await progress.stop()
    }

    // The parent gave up before releasing the barrier: nothing was sent.
    if (!outcome) throw Object.assign(new Error('stopped before sending'), {name: 'AbortError'})
    emitter?.result(outcome.result)
    // A worker of parallel reports to its parent, which records the whole run.
    const record = {command: 'run', history: flags.history && !emitter, historyUrl: flags['history-url'], tags}
    return this.finishLoad(outcome, {record, render: emitter ? undefined : (result, context) => renderRun(result, {...context, width: this.terminalWidth}), report: flags.report})
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<void> {
    this.emitter?.error(error)
    return super.catch(error)
  }
}
