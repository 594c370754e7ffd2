import {Flags} from '@oclif/core'

import {BaseCommand, profileFlags, storeFlags} from '../base-command.js'
import {assess} from '../lib/load/result/aggregate.js'
import {applyChecks} from '../lib/load/checks/checks.js'
import {coarsenResult, loadResults, mergeResults} from '../lib/load/result/merge.js'
import type {AggregateResult} from '../lib/load/result/types.js'
import {parseThreshold} from '../lib/load/checks/thresholds.js'
import {verifyRun} from '../lib/verify/verify.js'
import {verdictOf} from '../lib/load/measure/bottleneck.js'
import {parseIntervalFlag} from '../lib/load/settings.js'
import {writeHtmlReport} from '../lib/report/html/file.js'
import {renderAggregate} from '../lib/report/load.js'
import {parseColumnFlags} from '../lib/store/index.js'
import {planVerification} from '../lib/verify/plan.js'
import {parseDuration} from '../lib/parse.js'

/** The target every worker sent to, when they all sent to one origin (a serve that can verify for them). */
function commonTarget(result: AggregateResult): URL | undefined {
  const origins = new Set(result.workers.flatMap((w) => (w.result && URL.canParse(w.result.config.target) ? [new URL(w.result.config.target).origin] : [])))
  const [origin] = origins
  return origins.size === 1 ? new URL(origin) : undefined
}

export default class Merge extends BaseCommand {
  static summary = 'Merge the results of workers that ran on several hosts into one aggregate report.'
  static description = `Reads files written by "logbench run --json" (or "parallel --json") and aggregates them exactly as parallel does: counters are added and latency histograms merged, so the percentiles are those of all the requests together.

Run the workers wherever an orchestrator puts them, all with one --run-id and their own --worker-index of --worker-count (for a Kubernetes Indexed Job, --worker-index $JOB_COMPLETION_INDEX), each writing "run --json > results/$INDEX.json". With --clickhouse-url (or CLICKHOUSE_URL), merge then counts the stored rows of the run id and checks that every acknowledged log is there; a missing one exits 4, as does a breached --threshold.`

  static examples = [
    {command: '<%= config.bin %> merge results/*.json', description: 'The aggregate report of several hosts'},
    {command: "<%= config.bin %> merge results/*.json --clickhouse-url http://clickhouse:8123 --threshold 'lost==0' --json", description: 'Verified against ClickHouse, as JSON'},
  ]

  static strict = false

  static flags = {
    threshold: Flags.string({description: 'a check on the merged result, e.g. "throughput>=20000", "p99<=250ms", "lost==0" (repeatable)', multiple: true}),
    verify: Flags.boolean({allowNo: true, default: true, description: 'count the stored rows of the run when a ClickHouse URL is configured'}),
    'verify-wait': Flags.string({default: '0s', description: 'keep counting up to this long until every acknowledged log is stored'}),
    interval: Flags.string({description: 'coarsen the merged timeline to this interval (a multiple of the workers\' intervals)'}),
    report: Flags.string({description: 'write the HTML report (charts over time, verdict) to this file'}),
    ...storeFlags,
    ...profileFlags,
  }

  async run(): Promise<AggregateResult> {
    const {argv, flags} = await this.parse(Merge)
    const thresholds = (flags.threshold ?? []).map((expression) => parseThreshold(expression))
    const waitMs = parseDuration(flags['verify-wait'], '--verify-wait', {allowZero: true})

    const plan = mergeResults(await loadResults(argv as string[]))
    for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`)
    const {result} = plan
    const {signal} = this.abortController
    let note = plan.verifyNote
    if (!note && !flags.verify) note = 'not verified (--no-verify)'
    const verification =
      flags.verify && plan.verifiable
        ? await planVerification({
            columns: parseColumnFlags(flags.column),
            headers: this.env.token ? {authorization: `Bearer ${this.env.token}`} : {},
            signal,
            storeOptions: this.storeOptions(flags),
            target: commonTarget(result),
            warn: (line) => process.stderr.write(`warning: ${line}\n`),
          })
        : undefined
    note ??= verification?.note
    let verdict
    try {
      const counter = verification?.counter
      verdict = await applyChecks(result, {
        batchSize: plan.verifiable?.batchSize ?? 0,
        failedWorkers: result.workersFailed,
        thresholds,
        unverifiable: verification?.unverifiable ? verification.note : undefined,
        verify: counter ? (input) => verifyRun(counter, {...input, lastAckAtMs: Date.parse(result.endedAt)}, {signal, waitMs}) : undefined,
        workers: plan.verifiable?.workers ?? 1,
      })
    } finally {
      await verification?.close()
    }

    if (verdict.unverified) note = verdict.unverified
    if (note && !result.verification) result.verificationNote = note

    result.assessment = assess(result)
    if (flags.interval !== undefined) coarsenResult(result, parseIntervalFlag(flags.interval))
    result.bottleneck = verdictOf(result)
    if (flags.report) await writeHtmlReport(flags.report, result)
    if (!this.jsonEnabled()) {
      this.log(renderAggregate(result, {verificationNote: note}))
      for (const reason of verdict.reasons) process.stderr.write(`check failed: ${reason}\n`)
    }

    this.endChecks(verdict)
    return result
  }
}
