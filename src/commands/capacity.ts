import {Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../base-command.js'
import {loadFlags, profileFlags, recordFlags, storeFlags} from '../flags.js'
import {DEFAULTS, parseCapacityFlags} from '../lib/capacity/options.js'
import type {CapacityResult} from '../lib/capacity/result.js'
import {capacitySession} from '../lib/capacity/session.js'
import {exitCodesHelp, LogbenchError} from '../lib/errors.js'
import {int, msText} from '../lib/format/units.js'
import {parseTags} from '../lib/history/index.js'
import {outstandingOf, withToken} from '../lib/load/settings.js'
import {nodeSpawner, workerNodeFlags} from '../lib/load/workers/spawn.js'
import {renderCapacity} from '../lib/report/capacity.js'
import {writeCapacityReport} from '../lib/report/html/capacity.js'
import {parseColumnFlags} from '../lib/store/index.js'

const {
  'batch-size': batchSize,
  'es-index': esIndex,
  header,
  interval,
  'loki-shards': lokiShards,
  'max-in-flight': maxInFlight,
  'otlp-encoding': otlpEncoding,
  payload,
  protocol,
  report,
  retries,
  seed,
  target,
  template,
  timeout,
  verify,
  'verify-wait': verifyWait,
  apps,
} = loadFlags

export default class Capacity extends BaseCommand {
  static summary = 'Find the highest rate the target sustains within your SLOs, with every acknowledged log stored.'
  static description = `A search over the open-model rate, one trial at a time: each trial is a "parallel" run of --workers processes at a fixed rate for --trial-warmup then --trial, under a run id of its own, verified like "run". The search brackets by doubling from --start until a trial fails (or --max passes), bisects with geometric midpoints between the highest passing and the lowest failing rate until they are within --precision, and confirms the result with one more trial. The maximum reported is the highest rate that passed, strictly below the lowest rate that failed.

A trial is judged on its own window (the intervals after its warm-up), and every reason it fails is named: latency (an --slo on the window's merged histogram), backlog (the p99 climbs from the window's first third to its last: a queue that grows, even under the bound), errors (error_rate<=0.1% unless an --slo speaks of errors), loss (acknowledged logs missing or duplicated after --verify-wait; lost==0 and duplicated==0 unless an --slo names them), parts (ClickHouse's parts per partition climbing toward parts_to_delay_insert, or INSERTs delayed or refused), and generator (the generator fell behind its schedule: the trial is inconclusive and the search stops, saying to add workers).

Without --target, logbench starts one serve of its own on a free loopback port over the store flags (the embedded engine by default) for the whole search, and verifies there. It ends 0 when a maximum was found (or --max passed), 4 when even --start fails or the generator could not offer the rate, 5 when the trials could not be verified in the named store, and 130 on Ctrl+C after printing the curve so far.

${exitCodesHelp([0, 1, 2, 3, 4, 5, 130])}`

  static examples = [
    {command: "<%= config.bin %> capacity --slo 'p99<=300ms' --slo 'lost==0' --trial 10s --start 20000", description: "Zero set-up: logbench's own serve on the embedded engine"},
    {
      command: "<%= config.bin %> capacity --target http://127.0.0.1:3000 --clickhouse-url http://127.0.0.1:8123 --slo 'p99<=250ms' --slo 'error_rate<=0.1%' --workers 4 --start 50k --max 2m",
      description: 'A running serve, verified in ClickHouse',
    },
    {command: "<%= config.bin %> capacity --target http://127.0.0.1:3000 --budget 10m --json > capacity.json", description: 'At most ten minutes: the best bracket found by then'},
    {command: '<%= config.bin %> capacity --report capacity.html', description: 'The throughput-latency curve and every trial over time, as a self-contained page'},
  ]

  static flags = {
    target,
    header,
    protocol,
    payload,
    'otlp-encoding': otlpEncoding,
    'loki-shards': lokiShards,
    'es-index': esIndex,
    'batch-size': batchSize,
    'max-in-flight': maxInFlight,
    timeout,
    retries,
    seed,
    template,
    apps,
    workers: Flags.integer({char: 'w', default: 2, description: 'worker processes of every trial (the rate is split exactly over them)', max: 256, min: 1}),
    slo: Flags.string({
      description: 'an objective every trial must hold, in the threshold grammar: "p99<=300ms", "p999<=1s", "error_rate<=0.1%", "lost==0" (repeatable)',
      helpGroup: 'SEARCH',
      multiple: true,
    }),
    start: Flags.string({description: `first rate tried, logs/s (20000, 20k) [default: ${DEFAULTS.start}]`, helpGroup: 'SEARCH'}),
    max: Flags.string({description: 'highest rate tried, logs/s; when it passes, the limit lies above it [default: none]', helpGroup: 'SEARCH'}),
    precision: Flags.string({description: `stop bisecting once the lowest failing rate is within this of the highest passing one [default: ${DEFAULTS.precision}]`, helpGroup: 'SEARCH'}),
    trial: Flags.string({description: `judged length of every trial, after its warm-up (at least three --interval) [default: ${DEFAULTS.trial}]`, helpGroup: 'SEARCH'}),
    'trial-warmup': Flags.string({description: 'sent at the trial\'s rate before its window, and left out of its verdict [default: a fifth of --trial, at least 5s]', helpGroup: 'SEARCH'}),
    budget: Flags.string({description: 'stop before a trial that would end past this (10m, 1h) and report the best bracket so far', helpGroup: 'SEARCH'}),
    verify,
    'verify-wait': verifyWait,
    interval,
    report,
    ...storeFlags,
    ...profileFlags,
    ...recordFlags,
  }

  async run(): Promise<CapacityResult> {
    const {flags} = await this.parse(Capacity)
    const settings = parseCapacityFlags(flags)
    settings.load = withToken(settings.load, this.env.token)
    const tags = parseTags(flags.tag)
    const quiet = this.jsonEnabled()
    const say = (line: string) => {
      if (!quiet) process.stderr.write(`${line}\n`)
    }

    const result = await capacitySession({
      columns: parseColumnFlags(flags.column),
      log: (line) => process.stderr.write(`serve: ${line}\n`),
      onNote: (note) => say(note),
      onReady({slos, stack, target: url}) {
        say(`capacity search → ${url.href}${stack ? ` (${stack})` : ''}; SLOs: ${slos.map((s) => s.expression).join(', ')}`)
      },
      onTrial({index, trial}) {
        const detail = `achieved ${int(trial.achievedLogsPerSecond)} logs/s, p99 ${msText(trial.latency.p99Ms)} ms`
        say(`trial ${index}: ${trial.verdict}${trial.reasons.length > 0 ? ` (${trial.reasons.join(', ')})` : ''}, ${detail}`)
      },
      onTrialStart(index, phase, rate) {
        say(`trial ${index} (${phase}): ${int(rate)} logs/s for ${(settings.warmupMs + settings.trialMs) / 1000} s…`)
      },
      settings,
      signal: this.abortController.signal,
      spawn: nodeSpawner({binPath: path.join(this.config.root, 'bin', 'run.js'), nodeFlags: workerNodeFlags(outstandingOf({...settings.load, rate: 1}))}),
      storeOptions: this.storeOptions(flags),
      warn: (line) => process.stderr.write(`warning: ${line}\n`),
    })

    if (flags.report) await writeCapacityReport(flags.report, result)
    if (!quiet) this.log(renderCapacity(result))
    if (result.error) {
      // The curve so far is printed; the error ends the command with its own code.
      if (quiet) process.exitCode = result.error.exitCode
      else throw new LogbenchError(result.error.kind as LogbenchError['kind'], result.error.message, {suggestion: result.error.suggestion})
    }

    this.endRun({
      failed: result.outcome === 'start-fails' || result.outcome === 'generator' || (result.outcome === 'budget' && result.maxSustainable.logsPerSecond === null),
      interrupted: result.outcome === 'interrupted',
      unverified: result.unverifiable ? 'the trials could not be verified' : undefined,
    })
    if (flags.history) await this.record({command: 'capacity', historyUrl: flags['history-url'], result, tags})
    return result
  }
}
