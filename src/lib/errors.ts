/** Exit codes shared by every command (README, "Exit codes"). */
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
