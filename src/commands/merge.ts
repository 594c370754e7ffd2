import {Flags} from '@oclif/core'

import type {AggregateResult} from '../lib/load/result/types.js'

import {BaseCommand} from '../base-command.js'
import {profileFlags, recordFlags, storeFlags} from '../flags.js'
import {parseTags} from '../lib/history/index.js'
import {exitCodesHelp} from '../lib/errors.js'
import {parseThreshold} from '../lib/load/checks/thresholds.js'
import {mergeSession} from '../lib/load/session/merge-session.js'
import {parseDuration, parseIntervalFlag} from '../lib/parse.js'
import {renderAggregate} from '../lib/report/load.js'
import {parseColumnFlags} from '../lib/store/index.js'

export default class Merge extends BaseCommand {
  static summary = 'Merge the results of workers that ran on several hosts into one aggregate report.'
  static description = `Reads files written by "logbench run --json" (or "parallel --json") and aggregates them exactly as parallel does: counters are added and latency histograms merged, so the percentiles are those of all the requests together.

Run the workers wherever an orchestrator puts them, all with one --run-id and their own --worker-index of --worker-count (for a Kubernetes Indexed Job, --worker-index $JOB_COMPLETION_INDEX), each writing "run --json > results/$INDEX.json". With --clickhouse-url (or CLICKHOUSE_URL), merge then counts the stored rows of the run id and checks that every acknowledged log is there; a missing one exits 4, as does a breached --threshold.

${exitCodesHelp([0, 1, 2, 3, 4, 5, 130])}`

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
    ...recordFlags,
  }

  async run(): Promise<AggregateResult> {
    const {argv, flags} = await this.parse(Merge)
    const tags = parseTags(flags.tag)
    const outcome = await mergeSession({
      columns: parseColumnFlags(flags.column),
      files: argv as string[],
      headers: this.env.token ? {authorization: `Bearer ${this.env.token}`} : {},
      intervalMs: flags.interval === undefined ? undefined : parseIntervalFlag(flags.interval),
      signal: this.abortController.signal,
      storeOptions: this.storeOptions(flags),
      thresholds: (flags.threshold ?? []).map((expression) => parseThreshold(expression)),
      verify: flags.verify,
      verifyWaitMs: parseDuration(flags['verify-wait'], '--verify-wait', {allowZero: true}),
      warn: (line) => process.stderr.write(`warning: ${line}\n`),
    })
    return this.finishLoad(outcome, {
      interrupted: false,
      record: {command: 'merge', history: flags.history, historyUrl: flags['history-url'], tags}, render: (result) => renderAggregate(result, {verificationNote: outcome.verificationNote, width: this.terminalWidth}), report: flags.report})
  }
}
