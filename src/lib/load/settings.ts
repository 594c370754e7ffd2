/**
 * The load settings shared by `run` and `parallel`: parsed from flag values
 * (plain strings and numbers; no CLI framework here), validated with messages
 * that say what to write instead, and turned back into `run` arguments for
 * the workers that `parallel` starts.
 */
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {usageError} from '../errors.js'
import {parseDuration} from '../parse.js'
import {type BodyTemplate, parseTemplate} from './generate/body-template.js'
import {INDEX_NAME} from './protocols/elasticsearch.js'
import {defaultPath, type ProtocolConfig, type ProtocolName, PROTOCOLS} from './protocols/index.js'
import {MAX_LOKI_SHARDS} from './protocols/loki.js'
import {OTLP_ENCODINGS, type OtlpEncoding} from './protocols/otlp.js'
import {isValidAppName, isValidRunId, type Payload, PAYLOADS, type Weighted} from './generate/synth.js'
import {parseThreshold, type Threshold} from './checks/thresholds.js'

export interface LoadFlagValues {
  target?: string
  duration?: string
  concurrency: number
  rate?: number
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
  target?: URL
  durationMs?: number
  concurrency: number
  rate?: number
  maxInFlight: number
  batchSize: number
  payload: Payload
  protocol: ProtocolConfig
  /** The body template, compiled, and the file it came from (for the workers). */
  template?: BodyTemplate
  templateFile?: string
  headers: Record<string, string>
  /** The --header values as given, for forwarding. */
  headerArgs: string[]
  timeoutMs: number
  retries: number
  seed: number
  runId: string
  apps?: Weighted[]
  /** The --apps value as given, for forwarding. */
  appsArg?: string
  errorRate: number
  thresholds: Threshold[]
  verify: boolean
  verifyWaitMs: number
  /** Width of a timeline interval, ms. */
  intervalMs: number
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

/** A share: 0.05 or 5%. */
export function parseShare(name: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text)
  const value = match ? Number(match[1]) / (match[2] ? 100 : 1) : Number.NaN
  if (!(value >= 0 && value <= 1)) throw usageError(`--${name} ${text} is not a share`, 'give a number between 0 and 1, or a percentage such as 5%')
  return value
}

/** --interval: the width of a timeline interval, whole milliseconds from 100 ms to 1 h (default 1 s). */
export function parseIntervalFlag(text: string | undefined): number {
  if (text === undefined) return 1000
  const ms = Math.round(parseDuration(text, '--interval', {bareUnit: 's'}))
  if (!(ms >= 100 && ms <= 3_600_000)) throw usageError(`--interval ${text} is out of range`, 'give 100ms to 1h, e.g. --interval 1s')
  return ms
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

export function parseLoadFlags(flags: LoadFlagValues): LoadSettings {
  const protocol = parseProtocol(flags)
  let target: URL | undefined
  if (flags.target !== undefined) {
    try {
      target = new URL(flags.target)
    } catch {
      throw usageError(`--target "${flags.target}" is not a URL`, 'example: --target http://127.0.0.1:3000/api/logs/batch')
    }

    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw usageError(`--target ${flags.target} must be an http or https URL`)
    if (target.pathname === '/' || target.pathname === '') target.pathname = defaultPath(protocol.name)
  } else if (protocol.name !== 'json') {
    throw usageError(`--protocol ${protocol.name} needs --target`, `logbench's own serve takes the JSON shapes; point --target at the collector or API, e.g. --target http://127.0.0.1:4318 (posts to ${defaultPath(protocol.name)})`)
  }

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
  const intervalMs = parseIntervalFlag(flags.interval)
  return {
    apps: flags.apps === undefined ? undefined : parseApps(flags.apps),
    appsArg: flags.apps,
    batchSize: flags['batch-size'],
    concurrency: flags.concurrency,
    durationMs,
    errorRate: flags['error-rate'] === undefined ? 0 : parseShare('error-rate', flags['error-rate']),
    headerArgs: flags.header ?? [],
    headers,
    intervalMs,
    maxInFlight: flags['max-in-flight'],
    payload: payload as Payload,
    protocol,
    rate: flags.rate,
    retries: flags.retries,
    runId,
    seed: flags.seed,
    target,
    template: flags.template === undefined ? undefined : readTemplate(flags.template),
    templateFile: flags.template === undefined ? undefined : path.resolve(flags.template),
    thresholds: (flags.threshold ?? []).map((expression) => parseThreshold(expression)),
    timeoutMs,
    verify: flags.verify,
    verifyWaitMs: duration('verify-wait', flags['verify-wait']),
  }
}

/**
 * `run` arguments that reproduce the settings in a worker (everything but the
 * per-worker split, thresholds and verification, which the parent applies).
 */
export function workerRunArgs(settings: LoadSettings, target: URL): string[] {
  const args = [
    '--target',
    target.href,
    '--run-id',
    settings.runId,
    '--seed',
    String(settings.seed),
    '--batch-size',
    String(settings.batchSize),
    '--concurrency',
    String(settings.concurrency),
    '--max-in-flight',
    String(settings.maxInFlight),
    '--retries',
    String(settings.retries),
    '--timeout',
    `${settings.timeoutMs}ms`,
    '--error-rate',
    String(settings.errorRate),
    '--no-verify',
  ]
  const {protocol} = settings
  if (protocol.name === 'json') args.push('--payload', settings.payload)
  else args.push('--protocol', protocol.name)
  if (protocol.encoding !== undefined) args.push('--otlp-encoding', protocol.encoding)
  if (protocol.lokiShards !== undefined) args.push('--loki-shards', String(protocol.lokiShards))
  if (protocol.index !== undefined) args.push('--es-index', protocol.index)
  if (settings.templateFile !== undefined) args.push('--template', settings.templateFile)
  if (settings.durationMs !== undefined) args.push('--duration', `${settings.durationMs}ms`)
  args.push('--interval', `${settings.intervalMs}ms`)
  if (settings.appsArg !== undefined) args.push('--apps', settings.appsArg)
  for (const header of settings.headerArgs) args.push('--header', header)
  return args
}

/** The bearer token of LOGBENCH_TOKEN, unless --header already sets Authorization. */
export function withToken(settings: LoadSettings, token: string | undefined): LoadSettings {
  if (!token || settings.headers.authorization !== undefined) return settings
  return {...settings, headers: {...settings.headers, authorization: `Bearer ${token}`}}
}
