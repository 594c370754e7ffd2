import {Command, Errors, Flags} from '@oclif/core'
import chalk from 'chalk'

import {readEnv, DEFAULT_DATA_DIR, DEFAULT_DATABASE, DEFAULT_TABLE, type EnvConfig} from './lib/config.js'
import {ExitCode, LogbenchError, messageOf, usageError} from './lib/errors.js'
import type {StoreOptions} from './lib/store/index.js'


/** Flags of every command that talks to storage. Values missing from the command line come from the environment. */
export const storeFlags = {
  'clickhouse-url': Flags.string({
    description: 'ClickHouse HTTP URL (env CLICKHOUSE_URL); without it the embedded engine is used',
    helpGroup: 'STORAGE',
  }),
  'clickhouse-user': Flags.string({description: 'ClickHouse user (env CLICKHOUSE_USER)', helpGroup: 'STORAGE'}),
  'clickhouse-password': Flags.string({description: 'ClickHouse password (env CLICKHOUSE_PASSWORD); never printed', helpGroup: 'STORAGE'}),
  database: Flags.string({description: `database (env CLICKHOUSE_DATABASE) [default: ${DEFAULT_DATABASE}]`, helpGroup: 'STORAGE'}),
  table: Flags.string({default: DEFAULT_TABLE, description: 'table', helpGroup: 'STORAGE'}),
  'data-dir': Flags.string({default: DEFAULT_DATA_DIR, description: 'data directory of the embedded engine', helpGroup: 'STORAGE'}),
}

/** Where logbench's roles live in the user's table (src/lib/store/profile.ts). */
export const profileFlags = {
  column: Flags.string({
    description:
      'where a role lives in your table: ROLE=COLUMN, or ROLE=COLUMN.KEY for a key inside a JSON text or Map column (repeatable). Roles: event_time, ingest_time, app, level, message, source, run_id, seq. Detected from the columns when not given',
    helpGroup: 'TABLE',
    multiple: true,
  }),
}

export interface StoreFlagValues {
  'clickhouse-url'?: string
  'clickhouse-user'?: string
  'clickhouse-password'?: string
  database?: string
  table: string
  'data-dir': string
}

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

  /** Mark the run as having failed its checks: the result is still printed, the exit code is 4. */
  protected failChecks(): void {
    if (!process.exitCode || process.exitCode === ExitCode.unverified) process.exitCode = ExitCode.checksFailed
  }

  /** The run is measured and printed, but verification could not run: exit 5 unless something worse is set. */
  protected markUnverified(): void {
    if (!process.exitCode) process.exitCode = ExitCode.unverified
  }

  /** Exit code of a finished load: 4 when a check failed, else 5 when verification could not run. */
  protected endChecks(verdict: {failed: boolean; unverified?: string}): void {
    if (verdict.failed) this.failChecks()
    else if (verdict.unverified) this.markUnverified()
  }

  /** End with 130 after the partial result is printed. */
  protected markInterrupted(): void {
    process.exitCode = ExitCode.interrupted
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
    const exitCode = exitCodeOf(error)
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

function exitCodeOf(error: Error & {exitCode?: number; oclif?: {exit?: number}}): number {
  if (error instanceof LogbenchError) return error.exitCode
  if (typeof error.oclif?.exit === 'number') return error.oclif.exit
  if (error.name === 'AbortError') return ExitCode.interrupted
  return ExitCode.internal
}

export {messageOf}
