import {Command, Errors, Flags} from '@oclif/core'
import chalk from 'chalk'
import {createInterface} from 'node:readline'

import type {AnalysisResult} from './lib/analyze/index.js'
import type {SessionOutcome} from './lib/load/session/endpoints.js'
import type {AggregateResult, RunResult} from './lib/load/result/types.js'
import type {StoreOptions} from './lib/store/index.js'

import {type StoreFlagValues} from './flags.js'
import {readEnv, DEFAULT_DATABASE, type EnvConfig} from './lib/config.js'
import {environmentError, exitCodeOfError, ExitCode, LogbenchError, messageOf, runExitCode, usageError} from './lib/errors.js'
import {recordRun} from './lib/history/index.js'
import {writeHtmlReport} from './lib/report/html/file.js'
import type {ProgressMode} from './lib/report/progress.js'

/** What to say when a run could not reach its target at all. */
const UNREACHABLE_HINT = 'start the ingest endpoint (e.g. "logbench serve"), check --target, or leave --target out to use an embedded serve'


/**
 * The base of every logbench command: the --json envelope and exit codes, the
 * colour policy, one abort controller for Ctrl+C, and errors that say what to do.
 */
export abstract class BaseCommand extends Command {
  static baseFlags = {
    'no-color': Flags.boolean({description: 'no colour in output (also NO_COLOR, and whenever output is not a terminal)', helpGroup: 'GLOBAL'}),
  }

  static enableJsonFlag = true

  /** Aborted on the first Ctrl+C (SIGINT) or SIGTERM; a second Ctrl+C exits 130 at once. */
  protected readonly abortController = new AbortController()
  protected env!: EnvConfig
  private interrupts = 0
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.interrupts++
    if (this.interrupts > 1) {
      process.stderr.write('\ninterrupted again: exiting now\n')
      process.exit(ExitCode.interrupted)
    }

    this.abortController.abort(new LogbenchError('interrupted', `interrupted by ${signal}`))
  }

  /** True when the user asked to stop. */
  get interrupted(): boolean {
    return this.abortController.signal.aborted
  }

  /** Colour only on a terminal, and never with --no-color or NO_COLOR. */
  get useColor(): boolean {
    return chalk.level > 0
  }

  /** Store options from the store flags, falling back on the environment. */
  /** Did the user name the table (--database / --table on the command line, or CLICKHOUSE_DATABASE)? */
  protected tableNamed(): boolean {
    const named = (flag: string) => this.argv.some((arg) => arg === flag || arg.startsWith(`${flag}=`))
    return named('--database') || named('--table') || this.env.clickhouseDatabase !== undefined
  }

  protected storeOptions(flags: StoreFlagValues): StoreOptions {
    // A --data-dir on the command line means the embedded engine, even with CLICKHOUSE_URL in the
    // environment: a destructive command must never act on a store other than the one named.
    const dataDirGiven = this.argv.some((arg) => arg === '--data-dir' || arg.startsWith('--data-dir='))
    if (dataDirGiven && flags['clickhouse-url']) {
      throw usageError('--data-dir and --clickhouse-url name two different stores', 'pass one of them: --data-dir for the embedded engine, --clickhouse-url for a server')
    }

    return {
      clickhouseUrl: flags['clickhouse-url'] ?? (dataDirGiven ? undefined : this.env.clickhouseUrl),
      dataDir: flags['data-dir'],
      database: flags.database ?? this.env.clickhouseDatabase ?? DEFAULT_DATABASE,
      password: flags['clickhouse-password'] ?? this.env.clickhousePassword,
      table: flags.table,
      user: flags['clickhouse-user'] ?? this.env.clickhouseUser,
    }
  }

  /** Set the exit code of a finished run (130, 4, 5 or 0: errors.ts decides), keeping a worse one already set. */
  protected endRun(outcome: {interrupted: boolean; failed: boolean; unverified?: string}): void {
    const code = runExitCode(outcome)
    if (code === ExitCode.ok) return
    const current = process.exitCode
    if (code === ExitCode.unverified && current !== undefined && current !== 0) return
    process.exitCode = code
  }

  /**
   * The common ending of the load commands: the HTML report when asked, exit 3 when the target could
   * not be reached at all, the human report and the failed checks (not under --json), then the exit code.
   */
  protected async finishLoad<R extends RunResult | AggregateResult>(
    outcome: SessionOutcome<R>,
    options: {
      report?: string
      render?: (result: R, context: Omit<SessionOutcome<R>, 'result' | 'verdict'>) => string
      /** This command was interrupted (default: the result says so); merge reads results of interrupted workers without being interrupted itself. */
      interrupted?: boolean
      /** Record the result in the history of runs (the recordFlags' values; tags parsed before the run). */
      record?: {command: string; history: boolean; historyUrl?: string; tags: Record<string, string>}
    },
  ): Promise<R & {analysis?: AnalysisResult}> {
    const {result} = outcome
    if (options.report) await writeHtmlReport(options.report, result)
    if (outcome.unreachable) throw environmentError(outcome.unreachable, UNREACHABLE_HINT)
    if (options.render && !this.jsonEnabled()) {
      this.log(options.render(result, outcome))
      for (const reason of outcome.verdict.reasons) process.stderr.write(`check failed: ${reason}\n`)
    }

    this.endRun({failed: outcome.verdict.failed, interrupted: options.interrupted ?? result.interrupted, unverified: outcome.verdict.unverified})
    if (options.record?.history) {
      await this.record({...options.record, result: outcome.analysis ? {...result, analysis: outcome.analysis} : result, store: outcome.store})
    }

    return outcome.analysis ? {...result, analysis: outcome.analysis} : result
  }

  /** Record a finished result in the history of runs, with the exit code set; a history that cannot be written warns and changes nothing else. */
  protected async record(options: {command: string; historyUrl?: string; result: unknown; store?: {version: string; table: string}; tags: Record<string, string>}): Promise<void> {
    await recordRun({
      argv: this.argv,
      clickhouse: options.store,
      command: options.command,
      exitCode: typeof process.exitCode === 'number' ? process.exitCode : 0,
      historyUrl: options.historyUrl ?? this.env.historyUrl,
      logbenchVersion: this.config.version,
      result: options.result,
      tags: options.tags,
      warn: (line) => process.stderr.write(`warning: ${line}\n`),
    })
  }

  /** Ask on the terminal (stderr); anything but y/yes, Ctrl+C included, is no. */
  protected confirm(question: string): Promise<boolean> {
    return new Promise((resolve) => {
      const rl = createInterface({input: process.stdin, output: process.stderr, terminal: true})
      let answered = false
      const finish = (yes: boolean) => {
        if (answered) return
        answered = true
        rl.close()
        resolve(yes)
      }

      rl.on('SIGINT', () => {
        process.stderr.write('\n')
        finish(false)
      })
      rl.on('close', () => finish(false))
      rl.question(question, (answer) => finish(/^(y|yes)$/i.test(answer.trim())))
    })
  }

  /** How progress is shown: listr2 on a terminal, plain lines otherwise, nothing under --json. */
  protected get progressMode(): ProgressMode {
    if (this.jsonEnabled()) return 'none'
    return process.stderr.isTTY ? 'tty' : 'plain'
  }

  /** The terminal's width, for prose that wraps to it; undefined when stdout is not a terminal. */
  protected get terminalWidth(): number | undefined {
    return process.stdout.isTTY ? process.stdout.columns || 80 : undefined
  }

  /** Whether a terminal is there to ask on (and the output is not --json). */
  protected get interactive(): boolean {
    return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !this.jsonEnabled()
  }

  protected async init(): Promise<void> {
    await super.init()
    this.env = readEnv()
    const noColorFlag = this.argv.includes('--no-color')
    if (noColorFlag || this.env.noColor || !process.stdout.isTTY) chalk.level = 0
    process.on('SIGINT', this.onSignal)
    process.on('SIGTERM', this.onSignal)
  }

  protected async finally(error: Error | undefined): Promise<void> {
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
    return super.finally(error)
  }

  protected async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    const exitCode = exitCodeOfError(error)
    process.exitCode = exitCode
    if (this.jsonEnabled()) {
      this.logJson({
        error: {
          exitCode,
          kind: error instanceof LogbenchError ? error.kind : exitCode === ExitCode.usage ? 'usage' : 'internal',
          message: error.message,
          suggestion: error instanceof LogbenchError ? error.suggestion : undefined,
        },
      })
      return
    }

    // oclif's own exits (help, version) and parse errors keep their rendering.
    if (!(error instanceof LogbenchError) && error instanceof Errors.CLIError) throw error
    const lines = [`${chalk.red('Error:')} ${error.message}`]
    if (error instanceof LogbenchError && error.suggestion) lines.push(`  ${chalk.dim('→')} ${error.suggestion}`)
    if (this.env?.debug && error.stack) lines.push(error.stack)
    else if (!(error instanceof LogbenchError)) lines.push('  (set DEBUG=1 for the stack trace)')
    process.stderr.write(lines.join('\n') + '\n')
  }
}

export {messageOf}
