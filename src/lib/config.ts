/**
 * The one place that reads environment variables. Everything else receives
 * plain option objects.
 */
export interface EnvConfig {
  clickhouseUrl?: string
  clickhouseUser?: string
  clickhousePassword?: string
  clickhouseDatabase?: string
  token?: string
  /** Where the history of runs is (LOGBENCH_HISTORY_URL); the default is .logbench/history. */
  historyUrl?: string
  noColor: boolean
  debug: boolean
  /** A worker of `parallel`: its settings, from the parent. */
  workerSettings?: string
}

/** The variable that carries a worker's settings from `parallel` to its `run --worker` (never an argument: any user can read those). */
export const WORKER_SETTINGS_ENV = 'LOGBENCH_WORKER_SETTINGS'

export function readEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value)
  return {
    clickhouseDatabase: nonEmpty(env.CLICKHOUSE_DATABASE),
    clickhousePassword: env.CLICKHOUSE_PASSWORD,
    clickhouseUrl: nonEmpty(env.CLICKHOUSE_URL),
    clickhouseUser: nonEmpty(env.CLICKHOUSE_USER),
    debug: Boolean(nonEmpty(env.DEBUG)),
    historyUrl: nonEmpty(env.LOGBENCH_HISTORY_URL),
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== '',
    token: nonEmpty(env.LOGBENCH_TOKEN),
    workerSettings: nonEmpty(env[WORKER_SETTINGS_ENV]),
  }
}

/** Default embedded data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = '.logbench/data'
export const DEFAULT_DATABASE = 'logs_db'
export const DEFAULT_TABLE = 'logs'
