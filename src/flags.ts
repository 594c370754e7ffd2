/**
 * Flags that several commands share, defined once: the store, the table
 * profile, the load (target, model, logs, checks, output) and the history of
 * runs (`recordFlags` on every command that records its result, `historyUrlFlag`
 * on those that read the history). Their defaults
 * come from the settings module, the one place that knows them.
 */
import {Flags} from '@oclif/core'

import type {EnvConfig} from './lib/config.js'

import {DEFAULT_DATA_DIR, DEFAULT_DATABASE, DEFAULT_TABLE} from './lib/config.js'
import {historyLocation, type HistoryLocation} from './lib/history/index.js'
import {DEFAULTS} from './lib/load/settings.js'

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

/** Flags of run and parallel (and the targeting ones of capacity). */
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
  'batch-size': Flags.integer({default: DEFAULTS.batchSize, description: 'logs per request', max: 1_000_000, min: 1}),
  duration: Flags.string({description: 'send for this long (30s, 2m; a bare number is seconds) instead of a number of logs'}),
  concurrency: Flags.integer({description: `closed model: batches in flight per worker (a new one goes when one is answered) [default: ${DEFAULTS.concurrency}]`, min: 1}),
  rate: Flags.integer({description: 'open model: logs per second to send whatever the answers (latency is then measured from the intended send time)', min: 1}),
  stage: Flags.string({
    description:
      'open model, a load shape: DURATION:RATE, repeatable; over DURATION the rate moves linearly from the previous stage\'s end rate to RATE logs/s (0s jumps), as k6\'s ramping arrival rate; each stage gets its own results',
    multiple: true,
  }),
  'start-rate': Flags.string({description: 'with --stage: the rate the first stage starts from [default: its own rate, a hold]'}),
  warmup: Flags.string({description: 'open model: send at the first rate for this long before the measured part; charted and verified, left out of throughput, latency and thresholds'}),
  'max-in-flight': Flags.integer({default: DEFAULTS.maxInFlight, description: 'open model: batches outstanding at most per worker (late ones keep accruing latency)', min: 1}),
  timeout: Flags.string({default: DEFAULTS.timeout, description: 'time allowed for an answer'}),
  retries: Flags.integer({default: DEFAULTS.retries, description: 'retries of a batch after 429/502/503/504, a timeout or a dropped connection (exponential back-off with jitter, Retry-After honoured)', min: 0}),
  seed: Flags.integer({default: DEFAULTS.seed, description: 'seed of the synthetic logs: same seed, same logs', max: 4_294_967_295, min: 0, helpGroup: 'LOGS'}),
  template: Flags.string({
    description: 'a JSON file shaping each log with the user\'s field names and nesting: placeholders {{app}}, {{level}}, {{message}}, {{source}}, {{timestamp}} (:iso, :ms, :s, :ns), {{run_id}}, {{seq}}, {{id:N}} beside static fields',
    helpGroup: 'LOGS',
  }),
  'run-id': Flags.string({description: 'run id written into every log (metadata.run_id) [default: run-<time>-<random>]', helpGroup: 'LOGS'}),
  apps: Flags.string({description: 'apps and weights, name:weight,... [default: payment-service, auth-service, api-gateway, notification-service, equal weights]', helpGroup: 'LOGS'}),
  'error-rate': Flags.string({description: 'share of logs replaced by injected errors (0.1 or 10%)', helpGroup: 'LOGS'}),
  threshold: Flags.string({description: 'a check, e.g. "throughput>=20000", "p99<=250ms", "errors==0", "lost==0"; a breach exits 4 (repeatable)', helpGroup: 'CHECKS', multiple: true}),
  verify: Flags.boolean({allowNo: true, default: true, description: 'count the stored rows of the run and compare them with the acknowledgements (needs the own serve, or --clickhouse-url)', helpGroup: 'CHECKS'}),
  'verify-wait': Flags.string({default: DEFAULTS.verifyWait, description: 'keep counting up to this long until every acknowledged log is stored (for pipelines that store later)', helpGroup: 'CHECKS'}),
  interval: Flags.string({default: DEFAULTS.interval, description: 'width of one timeline interval (sent, acked, errors, latency, CPU, ClickHouse per interval)', helpGroup: 'OUTPUT'}),
  report: Flags.string({description: 'write the HTML report (charts over time, verdict) to this file', helpGroup: 'OUTPUT'}),
}

export const historyUrlFlag = {
  'history-url': Flags.string({
    description:
      'where the history of runs is: a ClickHouse server (http://HOST:8123: a "logbench" database, created when missing), embedded:DIR (the embedded engine in a data directory of its own) or file:DIR (env LOGBENCH_HISTORY_URL) [default: .logbench/history in the working directory]',
    helpGroup: 'HISTORY',
  }),
}

export const recordFlags = {
  history: Flags.boolean({allowNo: true, default: true, description: 'record the result in the history of runs (--no-history: do not)', helpGroup: 'HISTORY'}),
  ...historyUrlFlag,
  tag: Flags.string({
    description: 'a tag recorded with the result, key=value (repeatable), e.g. --tag branch=main; "logbench runs --tag" lists by it',
    helpGroup: 'HISTORY',
    multiple: true,
    multipleNonGreedy: true,
  }),
}

/** Where the history is: --history-url, else LOGBENCH_HISTORY_URL, else .logbench/history here. */
export function historyLocationOf(flags: {'history-url'?: string}, env: Pick<EnvConfig, 'historyUrl'>, cwd = process.cwd()): HistoryLocation {
  return historyLocation({cwd, historyUrl: flags['history-url'] ?? env.historyUrl})
}
