/**
 * Exit codes: the one table. The README's "Exit codes" table, every command's
 * --help and the conventions say the same (a test compares the README with
 * EXIT_CODES).
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  environment: 3,
  checksFailed: 4,
  /** The run completed and its results are printed, but verification could not run. */
  unverified: 5,
  interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** What each code means, in the README's words. */
export const EXIT_CODES: readonly {code: ExitCodeValue; short: string; meaning: string}[] = [
  {code: ExitCode.ok, meaning: 'success', short: 'ok'},
  {code: ExitCode.internal, meaning: 'internal error (set `DEBUG=1` for the stack trace)', short: 'internal error'},
  {code: ExitCode.usage, meaning: 'usage: an unknown flag, a bad value, a destructive action without `--yes` when not on a terminal', short: 'usage'},
  {
    code: ExitCode.environment,
    meaning:
      'environment: ClickHouse unreachable or refusing the credentials, the embedded engine missing or its data directory held by another process, serve or the target unreachable',
    short: 'environment (store, engine or target unreachable)',
  },
  {
    code: ExitCode.checksFailed,
    meaning:
      'the run completed but failed its checks: a threshold breached, a worker failed, acknowledged logs missing from storage or stored twice, a significant regression under `--fail-on`, even the start rate of a capacity search failing',
    short: 'checks failed',
  },
  {
    code: ExitCode.unverified,
    meaning:
      'the run completed and its report is printed, but verification could not run (the table has no run id or seq mapping, storage unreachable or timing out while counting); the report says why and which flag to pass',
    short: 'report printed, verification could not run',
  },
  {code: ExitCode.interrupted, meaning: 'interrupted (Ctrl+C); the partial result is printed first', short: 'interrupted (partial report printed)'},
]

/** The exit codes a command can end with, as its --help says them. */
export function exitCodesHelp(codes: readonly ExitCodeValue[]): string {
  const known = EXIT_CODES.filter((entry) => codes.includes(entry.code))
  return `Exit codes: ${known.map((entry) => `${entry.code} ${entry.short}`).join(', ')}.`
}

/** The exit code of a finished run: 130 when interrupted, else 4 when a check failed, else 5 when verification could not run, else 0. */
export function runExitCode(outcome: {interrupted: boolean; failed: boolean; unverified?: string}): ExitCodeValue {
  if (outcome.interrupted) return ExitCode.interrupted
  if (outcome.failed) return ExitCode.checksFailed
  return outcome.unverified ? ExitCode.unverified : ExitCode.ok
}

/** The exit code of anything thrown: its own, oclif's (help, parse errors), 130 for an abort, 1 otherwise. */
export function exitCodeOfError(error: Error & {exitCode?: number; oclif?: {exit?: number}}): number {
  if (error instanceof LogbenchError) return error.exitCode
  if (typeof error.oclif?.exit === 'number') return error.oclif.exit
  if (error.name === 'AbortError') return ExitCode.interrupted
  return ExitCode.internal
}

export type ErrorKind = 'usage' | 'environment' | 'checks' | 'unverified' | 'interrupted' | 'internal'

const codeOf: Record<ErrorKind, ExitCodeValue> = {
  checks: ExitCode.checksFailed,
  unverified: ExitCode.unverified,
  environment: ExitCode.environment,
  internal: ExitCode.internal,
  interrupted: ExitCode.interrupted,
  usage: ExitCode.usage,
}

/**
 * An error a user can act on: it names the thing and the value, says what to do,
 * and carries the exit code the process ends with.
 */
export class LogbenchError extends Error {
  readonly kind: ErrorKind
  readonly exitCode: ExitCodeValue
  readonly suggestion?: string

  constructor(kind: ErrorKind, message: string, options: {cause?: unknown; suggestion?: string} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'LogbenchError'
    this.kind = kind
    this.exitCode = codeOf[kind]
    this.suggestion = options.suggestion
  }
}

export const usageError = (message: string, suggestion?: string) => new LogbenchError('usage', message, {suggestion})

export const environmentError = (message: string, suggestion?: string, cause?: unknown) =>
  new LogbenchError('environment', message, {cause, suggestion})

/** The message of anything thrown, without a stack. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

/** The system error code (ECONNREFUSED, ETIMEDOUT, ...) of an error or of its causes. */
export function systemCodeOf(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as {code?: unknown}).code
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code
    current = (current as {cause?: unknown}).cause
  }

  return undefined
}
