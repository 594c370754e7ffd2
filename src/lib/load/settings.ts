/**
 * One settings shape for a load, from the flags to the sender: read from the
 * flag values (plain strings and numbers; no CLI framework here), validated
 * with messages that say what to write instead, split exactly over the workers
 * of `parallel`, and handed to each worker as it is (encoded as JSON, never
 * turned back into flags). Defaults and the values derived from the settings
 * (the model, the batches outstanding) live here and nowhere else.
 */
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {usageError} from '../errors.js'
import {parseDuration, parseIntervalFlag, parseRate, parseShare} from '../parse.js'
import {type BodyTemplate, parseTemplate} from './generate/body-template.js'
import {isValidAppName, isValidRunId, type Payload, PAYLOADS, type Weighted} from './generate/synth.js'
import {INDEX_NAME} from './protocols/elasticsearch.js'
import {defaultPath, type ProtocolConfig, type ProtocolName, PROTOCOLS} from './protocols/index.js'
import {MAX_LOKI_SHARDS} from './protocols/loki.js'
import {OTLP_ENCODINGS, type OtlpEncoding} from './protocols/otlp.js'
import type {Threshold, WorkerSlot} from './result/types.js'
import type {Stage} from './send/schedule.js'

import {parseThreshold} from './checks/thresholds.js'

/** The defaults of every load setting (the flags show them in --help). */
export const DEFAULTS = {
  batchSize: 1000,
  concurrency: 4,
  /** Open model: batches outstanding at most. */
  maxInFlight: 128,
  retries: 5,
  timeout: '30s',
  seed: 1,
  verifyWait: '0s',
  interval: '1s',
  /** `run` without --logs or --duration. */
  runLogs: 100_000,
  /** `parallel` without --logs, --logs-per-worker or --duration. */
  logsPerWorker: 2_000_000,
  workers: 4,
} as const

export type {WorkerSlot} from './result/types.js'

/** The flag values of run and parallel (oclif's parse output, or a test's object). */
export interface LoadFlagValues {
  target?: string
  logs?: number
  /** parallel: logs of each worker. */
  'logs-per-worker'?: number
  /** parallel: the number of worker processes (absent for run). */
  workers?: number
  /** run: this worker's place among several sharing a run id. */
  'worker-index'?: number
  'worker-count'?: number
  duration?: string
  /** Closed model (default DEFAULTS.concurrency; absent when not given, so --stage can refuse it). */
  concurrency?: number
  rate?: number
  /** Load shapes: DURATION:RATE, repeatable (open model). */
  stage?: string[]
  'start-rate'?: string
  warmup?: string
  'max-in-flight': number
  'batch-size': number
  /** JSON shape (json protocol only); array when not given. */
  payload?: string
  protocol?: string
  'otlp-encoding'?: string
  'loki-shards'?: number
  'es-index'?: string
  template?: string
  header?: string[]
  timeout: string
  retries: number
  seed: number
  'run-id'?: string
  apps?: string
  'error-rate'?: string
  threshold?: string[]
  verify: boolean
  'verify-wait': string
  /** Width of a timeline interval (default 1s). */
  interval?: string
}

export interface LoadSettings {
  /** Where batches are POSTed; absent: a serve of logbench's own (zero set-up). */
  target?: URL
  /** Logs of the whole run (count-bound), split over the workers; absent for a time-bound run. */
  logs?: number
  durationMs?: number
  /** Closed model: batches in flight per worker. */
  concurrency: number
  /** Open model: logs per second of the whole run, split over the workers. */
  rate?: number
  /** Open model, shaped: the rate moves linearly over each stage to its rate (split over the workers). */
  stages?: Stage[]
  /** Where the first stage starts, logs/s (default: its own rate). */
  startRate?: number
  /** Open model: a warm-up at the first rate before the measured part, ms (charted and verified, never measured). */
  warmupMs?: number
  /** Open model: batches outstanding at most per worker. */
  maxInFlight: number
  batchSize: number
  payload: Payload
  protocol: ProtocolConfig
  /** The body template, compiled (its file and text travel to the workers). */
  template?: BodyTemplate
  headers: Record<string, string>
  timeoutMs: number
  retries: number
  seed: number
  runId: string
  apps?: Weighted[]
  errorRate: number
  thresholds: Threshold[]
  verify: boolean
  verifyWaitMs: number
  /** Width of a timeline interval, ms. */
  intervalMs: number
  /** This process's place among the workers sharing the run id. */
  worker: WorkerSlot
  /** parallel: worker processes (1 for run). */
  workers: number
}

/** Closed (batches in flight) or open (a rate or stages, latency from the intended send time). */
export function modelOf(settings: Pick<LoadSettings, 'rate'> & {stages?: readonly Stage[]}): 'closed' | 'open' {
  return settings.rate === undefined && !settings.stages?.length ? 'closed' : 'open'
}

/** Batches a worker may have outstanding at once: its lanes (closed model) or the cap of the open model. */
export function outstandingOf(settings: Pick<LoadSettings, 'rate' | 'concurrency' | 'maxInFlight'> & {stages?: readonly Stage[]}): number {
  return modelOf(settings) === 'closed' ? settings.concurrency : settings.maxInFlight
}

/** A run id people can read and sort: run-20250102-030405-1a2b3c. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replaceAll(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `run-${stamp}-${randomBytes(3).toString('hex')}`
}

function duration(name: string, text: string): number {
  return parseDuration(text, `--${name}`, {allowZero: true})
}

/** `name:weight,name:weight` (weights any positive numbers; a name alone weighs 1). */
export function parseApps(text: string): Weighted[] {
  const apps = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name, weightText, ...rest] = part.split(':')
      const weight = weightText === undefined ? 1 : Number(weightText)
      if (rest.length > 0 || !isValidAppName(name) || !Number.isFinite(weight) || weight < 0) {
        throw usageError(`--apps: "${part}" is not name:weight`, 'example: --apps high-volume-app:0.7,medium-app:0.2,low-app:0.1')
      }

      return {name, weight}
    })
  if (apps.length === 0) throw usageError('--apps is empty', 'example: --apps high-volume-app:0.7,medium-app:0.2,low-app:0.1')
  if (new Set(apps.map(({name}) => name)).size !== apps.length) throw usageError(`--apps names an app twice: ${text}`)
  if (!apps.some(({weight}) => weight > 0)) throw usageError('--apps: every weight is 0')
  return apps
}

/** Headers every batch gets from logbench itself; one given by --header would break the run. */
const RESERVED_HEADERS = new Set(['idempotency-key', 'content-length', 'transfer-encoding', 'host', 'connection'])

/** `Name: value`, as curl takes it. */
export function parseHeader(text: string): [string, string] {
  const index = text.indexOf(':')
  const name = index > 0 ? text.slice(0, index).trim() : ''
  if (!/^[!#$%&'*+.^`|~\w-]+$/.test(name)) throw usageError(`--header "${text}" is not "Name: value"`, "example: --header 'Authorization: Bearer TOKEN'")
  const value = text.slice(index + 1).trim()
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) throw usageError(`--header ${name}: the value holds a control character (a line break?)`)
  const lower = name.toLowerCase()
  if (RESERVED_HEADERS.has(lower)) {
    throw usageError(`--header ${name} cannot be set: logbench sets it for every batch`, lower === 'idempotency-key' ? 'each batch carries its own key, so retries are not stored twice' : undefined)
  }

  return [lower, value]
}

/** --protocol and the flags that belong to one protocol only. */
export function parseProtocol(flags: Pick<LoadFlagValues, 'protocol' | 'otlp-encoding' | 'loki-shards' | 'es-index' | 'payload'>): ProtocolConfig {
  const name = (flags.protocol ?? 'json') as ProtocolName
  if (!PROTOCOLS.includes(name)) throw usageError(`--protocol ${flags.protocol} is not known`, `use one of ${PROTOCOLS.join(', ')}`)
  const only = (flag: string, given: unknown, protocol: ProtocolName) => {
    if (given !== undefined && name !== protocol) throw usageError(`--${flag} applies to --protocol ${protocol}, not ${name}`, `leave --${flag} out, or pass --protocol ${protocol}`)
  }

  only('payload', flags.payload, 'json')
  only('otlp-encoding', flags['otlp-encoding'], 'otlp')
  only('loki-shards', flags['loki-shards'], 'loki')
  only('es-index', flags['es-index'], 'elasticsearch')
  const protocol: ProtocolConfig = {name}
  if (name === 'otlp') {
    const encoding = (flags['otlp-encoding'] ?? 'protobuf') as OtlpEncoding
    if (!OTLP_ENCODINGS.includes(encoding)) throw usageError(`--otlp-encoding ${flags['otlp-encoding']} is not known`, `use ${OTLP_ENCODINGS.join(' or ')}`)
    protocol.encoding = encoding
  }

  if (name === 'loki') {
    const shards = flags['loki-shards'] ?? 1
    if (!(Number.isInteger(shards) && shards >= 1 && shards <= MAX_LOKI_SHARDS)) throw usageError(`--loki-shards ${shards} is out of range`, `give 1 to ${MAX_LOKI_SHARDS}`)
    protocol.lokiShards = shards
  }

  if (name === 'elasticsearch') {
    const index = flags['es-index'] ?? 'logbench'
    if (!INDEX_NAME.test(index)) throw usageError(`--es-index "${index}" is not an index or data stream name`, 'use lower-case letters, digits, ".", "_", "+" and "-", e.g. --es-index logs-logbench-default')
    protocol.index = index
  }

  return protocol
}

function readTemplate(file: string): BodyTemplate {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw usageError(`--template ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'give the path of a JSON file')
  }

  return parseTemplate(text, file)
}

function parseTarget(text: string | undefined, protocol: ProtocolConfig): URL | undefined {
  if (text === undefined) {
    if (protocol.name !== 'json') {
      throw usageError(`--protocol ${protocol.name} needs --target`, `logbench's own serve takes the JSON shapes; point --target at the collector or API, e.g. --target http://127.0.0.1:4318 (posts to ${defaultPath(protocol.name)})`)
    }

    return undefined
  }

  let target: URL
  try {
    target = new URL(text)
  } catch {
    throw usageError(`--target "${text}" is not a URL`, 'example: --target http://127.0.0.1:3000/api/logs/batch')
  }

  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw usageError(`--target ${text} must be an http or https URL`)
  if (target.pathname === '/' || target.pathname === '') target.pathname = defaultPath(protocol.name)
  return target
}

/** `--stage DURATION:RATE`: over DURATION the rate moves linearly to RATE (logs/s; 0s jumps). */
export function parseStage(text: string): Stage {
  const match = /^\s*([^:]+):(.+)$/.exec(text)
  if (!match) throw usageError(`--stage "${text}" is not DURATION:RATE`, 'example: --stage 30s:20000 (ramp to 20,000 logs/s over 30 s), --stage 0s:5k (jump)')
  const durationMs = parseDuration(match[1].trim(), `--stage "${text}": the duration`, {allowZero: true})
  const rate = parseRate(match[2].trim(), `--stage "${text}": the rate`, {allowZero: true})
  return {durationMs, rate}
}

/** The load shape: --stage, --start-rate and --warmup, checked against the rest of the flags. */
function parseShape(flags: LoadFlagValues): Pick<LoadSettings, 'stages' | 'startRate' | 'warmupMs'> {
  const stages = flags.stage?.map((text) => parseStage(text))
  if (stages) {
    const clash = (['concurrency', 'rate', 'duration', 'logs', 'logs-per-worker'] as const).find((name) => flags[name] !== undefined)
    if (clash) {
      throw usageError(
        `--stage and --${clash} cannot be used together`,
        clash === 'concurrency' ? 'stages shape an open-model rate; leave out --concurrency (--max-in-flight caps the batches outstanding)' : 'the stages set the rate and the length of the run',
      )
    }

    if (!stages.some((stage) => stage.durationMs > 0)) throw usageError('--stage: every stage has a duration of 0', 'give at least one stage a duration, e.g. --stage 1m:10000')
  }

  const startRate = flags['start-rate'] === undefined ? undefined : parseRate(flags['start-rate'], '--start-rate', {allowZero: true})
  if (startRate !== undefined && !stages) throw usageError('--start-rate applies to --stage', 'example: --start-rate 1000 --stage 1m:20000 (ramp from 1,000 to 20,000 logs/s)')
  const warmupMs = flags.warmup === undefined ? undefined : parseDuration(flags.warmup, '--warmup')
  if (warmupMs !== undefined) {
    if (!stages && flags.rate === undefined) throw usageError('--warmup needs a rate: --rate or --stage', 'the warm-up is sent at the first rate of the open model, e.g. --rate 20000 --duration 1m --warmup 10s')
    if (!stages && flags.duration === undefined) throw usageError('--warmup needs --duration or --stage', 'a warm-up comes before a measured part of known length, e.g. --rate 20000 --duration 1m --warmup 10s')
    if (!stages && warmupMs > 0 && flags.rate === 0) throw usageError('--warmup at a rate of 0 sends nothing')
  }

  return {stages, startRate, warmupMs}
}

/** Logs of the whole run: --logs, or --logs-per-worker × workers, or the default unless the run is time-bound. */
function plannedLogs(flags: LoadFlagValues, workers: number, durationMs: number | undefined): number | undefined {
  if (flags.stage !== undefined) return undefined
  if (flags.workers === undefined) return flags.logs ?? (durationMs === undefined ? DEFAULTS.runLogs : undefined)
  if (flags.logs !== undefined) {
    if (flags.logs < workers) throw usageError(`--logs ${flags.logs} is fewer than one log for each of ${workers} workers`)
    return flags.logs
  }

  const perWorker = flags['logs-per-worker'] ?? (durationMs === undefined ? DEFAULTS.logsPerWorker : undefined)
  return perWorker === undefined ? undefined : perWorker * workers
}

export function parseLoadFlags(flags: LoadFlagValues): LoadSettings {
  const protocol = parseProtocol(flags)
  const target = parseTarget(flags.target, protocol)
  const payload = flags.payload ?? 'array'
  if (!(PAYLOADS as readonly string[]).includes(payload)) throw usageError(`--payload ${payload}: use ${PAYLOADS.join(', ')}`)
  const runId = flags['run-id'] ?? newRunId()
  if (!isValidRunId(runId)) throw usageError(`--run-id "${runId}" is not valid`, 'use letters, digits, ".", "_" and "-" (at most 64 characters)')
  const headers: Record<string, string> = {}
  for (const text of flags.header ?? []) {
    const [name, value] = parseHeader(text)
    headers[name] = value
  }

  const durationMs = flags.duration === undefined ? undefined : duration('duration', flags.duration)
  if (durationMs !== undefined && !(durationMs > 0)) throw usageError('--duration must be longer than 0')
  const timeoutMs = duration('timeout', flags.timeout)
  if (!(timeoutMs > 0)) throw usageError('--timeout must be longer than 0')
  const shape = parseShape(flags)
  const workers = flags.workers ?? 1
  const worker = {count: flags['worker-count'] ?? 1, index: flags['worker-index'] ?? 0}
  if (worker.index >= worker.count) throw usageError(`--worker-index ${worker.index} must be below --worker-count ${worker.count}`)
  const settings: LoadSettings = {
    apps: flags.apps === undefined ? undefined : parseApps(flags.apps),
    batchSize: flags['batch-size'],
    concurrency: flags.concurrency ?? DEFAULTS.concurrency,
    durationMs,
    errorRate: flags['error-rate'] === undefined ? 0 : parseShare('error-rate', flags['error-rate']),
    headers,
    intervalMs: parseIntervalFlag(flags.interval),
    logs: plannedLogs(flags, workers, durationMs),
    maxInFlight: flags['max-in-flight'],
    payload: payload as Payload,
    protocol,
    rate: flags.rate,
    retries: flags.retries,
    runId,
    seed: flags.seed,
    ...shape,
    target,
    template: flags.template === undefined ? undefined : readTemplate(flags.template),
    thresholds: (flags.threshold ?? []).map((expression) => parseThreshold(expression)),
    timeoutMs,
    verify: flags.verify,
    verifyWaitMs: duration('verify-wait', flags['verify-wait']),
    worker,
    workers,
  }
  // Fail before anything starts when the work cannot be split over the workers.
  settingsOfWorkers(settings)
  return settings
}

/** The bearer token of LOGBENCH_TOKEN, unless --header already sets Authorization. */
export function withToken(settings: LoadSettings, token: string | undefined): LoadSettings {
  if (!token || settings.headers.authorization !== undefined) return settings
  return {...settings, headers: {...settings.headers, authorization: `Bearer ${token}`}}
}

/** Split `total` into `parts` integers that differ by at most one and add up exactly. */
export function splitExactly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts)
  const extra = total - base * parts
  return Array.from({length: parts}, (_, i) => base + (i < extra ? 1 : 0))
}

/**
 * The settings of each worker of a run: the same settings with the worker's place, its share of the
 * logs and of the rate (split exactly), and no thresholds or verification (the parent applies those).
 */
export function settingsOfWorkers(settings: LoadSettings, target: URL | undefined = settings.target): LoadSettings[] {
  const {workers} = settings
  const logs = settings.logs === undefined ? undefined : splitExactly(settings.logs, workers)
  const rates = settings.rate === undefined ? undefined : splitExactly(settings.rate, workers)
  // Every stage's rate, and the start rate, split exactly: the workers' stages add up to the run's.
  const stageRates = settings.stages?.map((stage) => splitExactly(stage.rate, workers))
  const startRates = settings.startRate === undefined ? undefined : splitExactly(settings.startRate, workers)
  if (rates?.some((rate) => rate === 0)) {
    throw usageError(`--rate ${settings.rate} is less than one log per second for each of ${workers} workers`, 'raise --rate or use fewer --workers')
  }

  return Array.from({length: workers}, (_, index) => ({
    ...settings,
    logs: logs?.[index],
    rate: rates?.[index],
    stages: settings.stages?.map((stage, i) => ({durationMs: stage.durationMs, rate: stageRates![i][index]})),
    startRate: startRates?.[index],
    target,
    thresholds: [],
    verify: false,
    worker: {count: workers, index},
    workers: 1,
  }))
}

const ENCODING_VERSION = 1

/** A worker's settings as one line of JSON (the template travels as its file and text). */
export function encodeWorkerSettings(settings: LoadSettings): string {
  const {target, template, ...rest} = settings
  return JSON.stringify({...rest, target: target?.href, template: template && {file: template.file, source: template.source}, v: ENCODING_VERSION})
}

/** The settings `encodeWorkerSettings` wrote, exactly. */
export function decodeWorkerSettings(text: string): LoadSettings {
  let value: Record<string, unknown>
  try {
    value = JSON.parse(text) as Record<string, unknown>
  } catch (error) {
    throw new Error(`the worker settings are not JSON (${(error as Error).message})`)
  }

  if (value?.v !== ENCODING_VERSION) throw new Error(`the worker settings are version ${String(value?.v)}, this logbench reads ${ENCODING_VERSION}: use the same logbench for workers and parallel`)
  const {target, template, v: _version, ...rest} = value as Omit<LoadSettings, 'target' | 'template'> & {target?: string; template?: {file: string; source: string}; v: number}
  return {...rest, target: target === undefined ? undefined : new URL(target), template: template && parseTemplate(template.source, template.file)}
}
