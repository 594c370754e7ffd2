/**
 * Deterministic log synthesis in O(1) memory.
 *
 * The content of a log is a pure function of (seed, seq): each log reseeds a
 * small PRNG from a hash of the seed and its sequence number. So the same seed
 * gives the same logs whatever the number of workers or the order batches are
 * built in, and a 4-worker run produces exactly the logs of a 1-worker run of
 * the same total. Nothing is kept between logs: memory does not grow with --logs.
 *
 * Bodies are written as bytes from pre-escaped fragments; the variable parts
 * are digits and identifiers checked at start, so no JSON.stringify runs per
 * log.
 *
 * Every shape of a log starts with begin(seq), which draws its app, level,
 * source and message template: the default shape (writeLog), a body template
 * (generate/template.ts) and each wire protocol (protocols/) then write the
 * same choices, so a seed gives the same apps, levels and messages in all of them.
 */
import type {Level} from '../../store/index.js'

import {usageError} from '../../errors.js'
import {ByteWriter} from '../../format/byte-writer.js'
import {type BodyTemplate, Slot as Field} from './body-template.js'

export type Payload = 'array' | 'wrapped' | 'ndjson'
export const PAYLOADS: readonly Payload[] = ['array', 'wrapped', 'ndjson']

export interface Weighted<T extends string = string> {
  name: T
  weight: number
}

/** The guide's four services, equally weighted. */
export const DEFAULT_APPS: readonly Weighted[] = [
  {name: 'payment-service', weight: 0.25},
  {name: 'auth-service', weight: 0.25},
  {name: 'api-gateway', weight: 0.25},
  {name: 'notification-service', weight: 0.25},
]

/** A production-like level mix. */
export const DEFAULT_LEVELS: readonly Weighted<Level>[] = [
  {name: 'debug', weight: 0.1},
  {name: 'info', weight: 0.7},
  {name: 'warn', weight: 0.12},
  {name: 'error', weight: 0.06},
  {name: 'fatal', weight: 0.02},
]

export interface SynthOptions {
  /** 32-bit seed: same seed, same logs. */
  seed: number
  /** Written into every log as metadata.run_id. */
  runId: string
  apps?: readonly Weighted[]
  levels?: readonly Weighted<Level>[]
  /** Share of logs (0..1) replaced by an injected error (level error, source error-injector). */
  errorRate?: number
  /** The user's entry shape (see generate/template.ts); the default shape otherwise. */
  template?: BodyTemplate
}

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function isValidAppName(name: string): boolean {
  return APP_NAME.test(name)
}

export function isValidRunId(id: string): boolean {
  return RUN_ID.test(id)
}

// ---------------------------------------------------------------------------
// PRNG: a 32-bit integer hash to derive the per-log state, mulberry32 to draw.

/** A 32-bit avalanche hash (lowbias32). */
export function mix32(value: number): number {
  let x = value >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x7f_eb_35_2d)
  x ^= x >>> 15
  x = Math.imul(x, 0x84_6c_a6_8b)
  x ^= x >>> 16
  return x >>> 0
}

/** A seed from any text: integers in 0..2^32-1 are taken as they are, other text is hashed (FNV-1a). */
export function seedFrom(text: string | number): number {
  if (typeof text === 'number' && Number.isInteger(text) && text >= 0 && text <= 0xff_ff_ff_ff) return text
  const string = String(text)
  if (/^\d{1,10}$/.test(string) && Number(string) <= 0xff_ff_ff_ff) return Number(string)
  let hash = 0x81_1c_9d_c5
  for (let i = 0; i < string.length; i++) {
    hash ^= string.charCodeAt(i)
    hash = Math.imul(hash, 0x01_00_01_93)
  }

  return hash >>> 0
}

/** Draws are uniform in [0, DRAW_SPAN). */
const DRAW_SPAN = 1_073_741_824

/** mulberry32 over a state derived from (seed, seq). */
export class Rng {
  // In a typed array: an int32 object field outside the small-integer range would be boxed on every write.
  private readonly state = new Int32Array(1)

  /** Position the generator on log `seq` of the stream `seed`. */
  at(seed: number, seq: number): this {
    const lo = seq >>> 0
    const hi = Math.floor(seq / 4_294_967_296) >>> 0
    this.state[0] = mix32(seed ^ mix32(lo ^ mix32(hi + 0x9e_37_79_b9)))
    return this
  }

  /**
   * A uniform 30-bit unsigned integer. Thirty bits, not 32: V8 keeps integers
   * below 2^30 unboxed, so drawing allocates nothing.
   */
  next(): number {
    const s = this.state
    let t = (s[0] = (s[0] + 0x6d_2b_79_f5) | 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 2
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() * n) / DRAW_SPAN)
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.next() / DRAW_SPAN
  }
}

// ---------------------------------------------------------------------------
// Message templates. `{n:a-b}` an integer in [a, b], `{h:n}` n hex digits,
// `{p:a|b|c}` one of the words, `{m:a-b}` an amount with cents.

type Slot = (rng: Rng, out: ByteWriter) => void
type Part = Uint8Array | Slot

/**
 * Compile a template into parts; static text is encoded once, here: JSON-escaped
 * (the inside of a JSON string), or as plain UTF-8 with `raw` (for binary encodings).
 */
export function compileTemplate(template: string, raw = false): Part[] {
  const text = raw ? (piece: string) => Buffer.from(piece) : jsonBytes
  const parts: Part[] = []
  const pattern = /\{([nhpm]):([^}]+)\}/g
  let last = 0
  for (let match = pattern.exec(template); match; match = pattern.exec(template)) {
    if (match.index > last) parts.push(text(template.slice(last, match.index)))
    parts.push(compileSlot(match[1], match[2], text))
    last = match.index + match[0].length
  }

  if (last < template.length) parts.push(text(template.slice(last)))
  return parts
}

function compileSlot(kind: string, spec: string, text: (piece: string) => Uint8Array): Slot {
  switch (kind) {
    case 'n': {
      const [a, b] = spec.split('-').map(Number)
      const span = b - a + 1
      return (rng, out) => out.uint(a + rng.int(span))
    }

    case 'h': {
      const n = Number(spec)
      return (rng, out) => out.hex(rng, n)
    }

    case 'p': {
      const words = spec.split('|').map((word) => text(word))
      return (rng, out) => out.bytes(words[rng.int(words.length)])
    }

    default: {
      const [a, b] = spec.split('-').map(Number)
      const span = (b - a) * 100 + 1
      return (rng, out) => {
        const cents = a * 100 + rng.int(span)
        const units = Math.floor(cents / 100)
        const rest = cents - units * 100
        out.uint(units)
        out.byte(46)
        out.byte(48 + Math.floor(rest / 10))
        out.byte(48 + (rest % 10))
      }
    }
  }
}

/** The inside of a JSON string literal for `text`. */
export function escapeJson(text: string): string {
  return JSON.stringify(text).slice(1, -1)
}

/** UTF-8 bytes of the inside of a JSON string literal for `text`. */
function jsonBytes(text: string): Uint8Array {
  return Buffer.from(escapeJson(text))
}

function render(parts: readonly Part[], rng: Rng, out: ByteWriter): void {
  for (const part of parts) {
    if (typeof part === 'function') part(rng, out)
    else out.bytes(part)
  }
}

const STACK =
  '\n    at {p:processPayment|authorize|routeRequest|sendEmail|refreshToken|chargeCard} (/app/src/services/{p:payment|auth|gateway|notify}.js:{n:10-900}:{n:1-80})' +
  '\n    at async Promise.all (index {n:0-9})' +
  '\n    at async {p:handleBatch|handleRequest|consume|dispatch} (/app/src/handlers/{p:batch|http|queue|worker}.js:{n:10-400}:{n:1-60})' +
  '\n    at process.processTicksAndRejections (node:internal/process/task_queues:{n:80-105}:{n:3-9})'

/** Templates by service family; apps of other names use the generic set. Lengths vary from ~30 to ~700 characters. */
const TEMPLATES: Record<string, readonly string[]> = {
  'api-gateway': [
    '{p:GET|POST|PUT|DELETE|PATCH} /api/v{n:1-3}/{p:users|orders|payments|sessions|items}/{n:1000-99999} {p:200|200|200|201|204|304|400|404|500} {n:1-900}ms',
    'Upstream {p:orders|users|billing|search} responded in {n:1-2500}ms (pool {n:1-64}/{n:64-128} busy)',
    'Rate limit {p:near|reached|reset} for client {h:12}: {n:0-1000} requests in the current window',
    'Route cache {p:hit|miss|refresh} for /api/v{n:1-3}/{p:users|orders|payments|items}',
    'Request {h:16} forwarded to {p:orders|users|billing|search}-{n:1-12}.internal:{n:8000-8099} after {n:0-3} retries; headers {n:8-40}, body {n:0-65536} bytes, tls {p:1.2|1.3}, keep-alive {p:reused|new}',
  ],
  'auth-service': [
    'User {n:1000-999999} logged in via {p:password|oauth|sso|passkey}',
    'Token {p:issued|refreshed|revoked|expired} for session {h:24}',
    'Failed login attempt {n:1-5} for user {n:1000-999999} from 10.{n:0-255}.{n:0-255}.{n:1-254}',
    'MFA {p:challenge sent|verified|failed} for user {n:1000-999999}',
    'Password policy check for user {n:1000-999999}: length {p:ok|too short}, breached list {p:clear|match}, history {p:ok|reused}, entropy {n:20-120} bits; decision {p:accept|reject|force reset}',
  ],
  'notification-service': [
    '{p:Email|SMS|Push|Webhook} notification {h:16} queued for user {n:1000-999999}',
    '{p:Email|SMS|Push} delivered to user {n:1000-999999} in {n:5-4000}ms',
    'Template {p:welcome|receipt|reset-password|digest|alert} rendered ({n:200-40000} bytes)',
    'Provider {p:sendgrid|twilio|fcm|apns|ses} responded {p:202|200|429|503} after {n:10-3000}ms',
    'Digest batch {n:1-9999} for segment {p:all|active|trial|churn-risk}: {n:1-50000} recipients, {n:0-500} suppressed, {n:0-90} bounced last run, throttled to {n:10-500}/s, ETA {n:1-3600}s',
  ],
  'payment-service': [
    'Payment processed for order ORD-{n:100000-999999}: {m:1-2000} {p:USD|EUR|GBP|JPY}',
    'Refund {h:12} issued: {m:1-500} {p:USD|EUR|GBP}',
    'Card authorization {p:approved|declined|pending review} for order ORD-{n:100000-999999}',
    'Charge retry {n:1-5}/5 for subscription SUB-{n:10000-99999}',
    'Settlement batch {n:1-9999} closed: {n:1-20000} transactions, {m:1000-900000} total, {n:0-40} disputes opened, {n:0-12} chargebacks, fees {m:1-9000}, payout scheduled for T+{n:1-3}',
  ],
}

const GENERIC_TEMPLATES = [
  'Processed job {n:1-999999} in {n:1-5000}ms',
  'Cache {p:hit|miss|eviction} for key {p:user|order|session|config}:{n:1-99999}',
  'Connection pool at {n:1-64}/{n:64-128}, {n:0-50} waiting',
  'Request {h:16} completed with status {p:200|201|204|400|404|500} in {n:1-2000}ms',
  'Background sweep removed {n:0-9999} expired records from {p:sessions|tokens|carts|locks} in {n:1-9000}ms; next run in {n:1-3600}s; backlog {n:0-100000}; lag {n:0-60000}ms',
]

/** Appended to the message of error and fatal logs: a stack trace makes them the long ones. */
const SEVERE_SUFFIX = ': {p:TimeoutError|ConnectionError|ValidationError|Error} {p:upstream timed out|connection reset by peer|invalid state|lock wait timeout exceeded}' + STACK

const ERROR_TEMPLATES = [
  'Simulated error for testing: {p:TimeoutError|ConnectionError|ValidationError|DeadlockError} in {p:checkout|login|dispatch|render} (code E{n:1000-9999})',
  'Unhandled {p:TypeError|RangeError|Error}: {p:Cannot read properties of undefined|Invalid array length|upstream closed connection} (request {h:16})' + STACK,
]

const SOURCES: Record<string, readonly string[]> = {
  'api-gateway': ['router', 'rate-limiter', 'proxy', 'auth-filter'],
  'auth-service': ['login', 'token-service', 'mfa', 'session-store'],
  'notification-service': ['email-worker', 'sms-worker', 'push-worker', 'scheduler'],
  'payment-service': ['checkout', 'stripe-webhook', 'refunds', 'ledger'],
}

const GENERIC_SOURCES = ['main', 'worker', 'scheduler', 'http']
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1']
const ENVS = ['production', 'production', 'production', 'staging']

interface AppModel {
  name: string
  nameBytes: Uint8Array
  /** `","app_id":"NAME","level":"` */
  idBytes: Uint8Array
  templates: Part[][]
  /** The same templates with plain (not JSON-escaped) text, compiled when first asked for. */
  rawTemplates?: Part[][]
  templateTexts: readonly string[]
  /** Indexes into LogSynth.sourceNames. */
  sourceIds: number[]
  /** Each source as `","source":"NAME","metadata":{"run_id":"RUN","seq":` */
  sourceHeads: Uint8Array[]
}

/** The choices of the current log, after LogSynth.begin(). */
export interface Drawn {
  /** Index into LogSynth.appNames. */
  app: number
  /** Index into LogSynth.levelNames. */
  level: number
  /** Index into LogSynth.sourceNames. */
  source: number
}

/** The metadata of a log of the default shape, drawn after its message. */
export interface DrawnMeta {
  /** 16 hex digits as nibble values (0..15). */
  requestId: Uint8Array
  userId: number
  durationMs: number
  /** Indexes into REGIONS and ENVS. */
  region: number
  env: number
}

export {ENVS, REGIONS}

/** Cumulative thresholds in [0, DRAW_SPAN] for weighted choice. */
function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, w) => sum + w, 0)
  const out: number[] = []
  let acc = 0
  for (const weight of weights) {
    acc += weight
    out.push(Math.round((acc / total) * DRAW_SPAN))
  }

  out[out.length - 1] = DRAW_SPAN
  return out
}

function pick(thresholds: readonly number[], draw: number): number {
  let i = 0
  while (draw >= thresholds[i]) i++
  return i
}

function validateWeights(list: readonly Weighted[], what: string): void {
  if (list.length === 0) throw usageError(`${what}: the list is empty`)
  for (const {name, weight} of list) {
    if (!Number.isFinite(weight) || weight < 0) throw usageError(`${what}: weight of "${name}" is ${weight}; weights are numbers >= 0`)
  }

  if (!list.some(({weight}) => weight > 0)) throw usageError(`${what}: every weight is 0`)
}

const enc = (text: string) => Buffer.from(text)
const OPEN = {array: enc('['), ndjson: enc(''), wrapped: enc('{"logs":[')}
const CLOSE = {array: enc(']'), ndjson: enc('\n'), wrapped: enc(']}')}
const SEPARATOR = {array: 44, ndjson: 10, wrapped: 44}
const TIMESTAMP_HEAD = enc('{"timestamp":"')
const MESSAGE_HEAD = enc('","message":"')
const REQUEST_HEAD = enc(',"request_id":"')
const USER_HEAD = enc('","user_id":')
const DURATION_HEAD = enc(',"duration_ms":')
const REGION_HEADS = REGIONS.map((region) => enc(`,"region":"${region}","env":"`))
const ENV_TAILS = ENVS.map((env) => enc(`${env}"}}`))
const INJECTED_SOURCE = 'error-injector'
/** Room for one log: the longest template with every slot at its widest is far below this. */
const MAX_LOG_BYTES = 4096

/** Generates the JSON bytes of logs and of whole batches. */
export class LogSynth {
  readonly seed: number
  readonly runId: string
  readonly appNames: readonly string[]
  /** The level mix's names, then "error" when the mix lacks it (injected errors are errors). */
  readonly levelNames: readonly string[]
  /** Every app's sources, then "error-injector". */
  readonly sourceNames: readonly string[]
  readonly template?: BodyTemplate
  /** The choices of the log that begin() positioned on. */
  readonly drawn: Drawn = {app: 0, level: 0, source: 0}
  private readonly apps: AppModel[]
  private readonly appCut: number[]
  private readonly levelBytes: Uint8Array[]
  private readonly levelSevere: boolean[]
  private readonly severeSuffix: Part[]
  private rawSevereSuffix?: Part[]
  private readonly levelCut: number[]
  private readonly errorCut: number
  private readonly errorLevel: number
  private readonly errorTemplates: Part[][]
  private rawErrorTemplates?: Part[][]
  private readonly errorSourceHead: Uint8Array
  private readonly sourceBytes: Uint8Array[]
  private readonly runIdBytes: Uint8Array
  private readonly maxEntryBytes: number
  private readonly rng = new Rng()
  /** Index of the chosen message template of the current log (into the app's, or the error templates when injected). */
  private templateIndex = 0
  private injected = false
  /** Index of the chosen source among the app's. */
  private sourcePick = 0
  private timestampMs = Number.NaN
  private timestampBytes: Uint8Array = new Uint8Array()
  /** The batch time in ms and in ns, as digits made once a batch (ns is past 2^53, beyond ByteWriter.uint). */
  private timestampMsBytes: Uint8Array = new Uint8Array()
  private timestampNsBytes: Uint8Array = new Uint8Array()

  constructor(options: SynthOptions) {
    if (!isValidRunId(options.runId)) {
      throw usageError(`run id "${options.runId}" is not valid`, 'use letters, digits, ".", "_" and "-" (at most 64 characters)')
    }

    const apps = options.apps ?? DEFAULT_APPS
    const levels = options.levels ?? DEFAULT_LEVELS
    validateWeights(apps, '--apps')
    validateWeights(levels, 'level mix')
    for (const {name} of apps) {
      if (!isValidAppName(name)) throw usageError(`app name "${name}" is not valid`, 'use letters, digits, ".", "_" and "-" (at most 64 characters)')
    }

    const errorRate = options.errorRate ?? 0
    if (!(errorRate >= 0 && errorRate <= 1)) throw usageError(`--error-rate ${errorRate} is out of range`, 'give a share between 0 and 1 (or a percentage such as 5%)')

    this.seed = options.seed >>> 0
    this.runId = options.runId
    this.template = options.template
    const sourceHead = (source: string) => enc(`","source":"${source}","metadata":{"run_id":"${options.runId}","seq":`)
    const sourceNames: string[] = []
    const sourceId = (name: string) => {
      const known = sourceNames.indexOf(name)
      return known === -1 ? sourceNames.push(name) - 1 : known
    }

    this.apps = apps.map(({name}) => {
      const sources = SOURCES[name] ?? GENERIC_SOURCES
      const templateTexts = TEMPLATES[name] ?? GENERIC_TEMPLATES
      return {
        idBytes: enc(`","app_id":"${name}","level":"`),
        name,
        nameBytes: enc(name),
        sourceHeads: sources.map((source) => sourceHead(source)),
        sourceIds: sources.map((source) => sourceId(source)),
        templates: templateTexts.map((template) => compileTemplate(template)),
        templateTexts,
      }
    })
    sourceId(INJECTED_SOURCE)
    this.sourceNames = sourceNames
    this.sourceBytes = sourceNames.map((name) => enc(name))
    this.appNames = apps.map(({name}) => name)
    const levelNames: string[] = levels.map(({name}) => name)
    this.errorLevel = levelNames.includes('error') ? levelNames.indexOf('error') : levelNames.push('error') - 1
    this.levelNames = levelNames
    this.appCut = cumulative(apps.map(({weight}) => weight))
    this.levelBytes = levelNames.map((name) => enc(name))
    this.levelSevere = levelNames.map((name) => name === 'error' || name === 'fatal')
    this.severeSuffix = compileTemplate(SEVERE_SUFFIX)
    this.levelCut = cumulative(levels.map(({weight}) => weight))
    this.errorCut = Math.floor(errorRate * DRAW_SPAN)
    this.errorTemplates = ERROR_TEMPLATES.map((template) => compileTemplate(template))
    this.errorSourceHead = sourceHead(INJECTED_SOURCE)
    this.runIdBytes = enc(options.runId)
    const template = options.template
    // Room for one entry: its static text, then each placeholder at its widest (a message at most a log).
    this.maxEntryBytes = template ? template.staticBytes + template.placeholders * 64 + template.messages * MAX_LOG_BYTES : MAX_LOG_BYTES
  }

  /**
   * Position the generator on log `seq` and draw its choices (app, level,
   * source, message template) into `drawn`. Every shape of a log starts here,
   * so the same seed gives the same app, level and message in every protocol.
   */
  begin(seq: number): Drawn {
    const rng = this.rng.at(this.seed, seq)
    const drawn = this.drawn
    const appIndex = pick(this.appCut, rng.next())
    const app = this.apps[appIndex]
    drawn.app = appIndex
    if (this.errorCut > 0 && rng.next() < this.errorCut) {
      this.injected = true
      drawn.level = this.errorLevel
      drawn.source = this.sourceNames.length - 1
      this.templateIndex = rng.int(this.errorTemplates.length)
    } else {
      this.injected = false
      drawn.level = pick(this.levelCut, rng.next())
      this.sourcePick = rng.int(app.sourceIds.length)
      drawn.source = app.sourceIds[this.sourcePick]
      this.templateIndex = rng.int(app.templates.length)
    }

    return drawn
  }

  /** The app of log `seq` (the first choice begin() draws), cheaper than begin() for grouping. */
  appOf(seq: number): number {
    return pick(this.appCut, this.rng.at(this.seed, seq).next())
  }

  /** The message of the current log: JSON-escaped (the inside of a JSON string), or plain UTF-8 with `raw`. */
  writeMessage(out: ByteWriter, raw = false): void {
    const app = this.apps[this.drawn.app]
    if (this.injected) {
      const templates = raw ? (this.rawErrorTemplates ??= ERROR_TEMPLATES.map((t) => compileTemplate(t, true))) : this.errorTemplates
      render(templates[this.templateIndex], this.rng, out)
      return
    }

    const templates = raw ? (app.rawTemplates ??= app.templateTexts.map((t) => compileTemplate(t, true))) : app.templates
    render(templates[this.templateIndex], this.rng, out)
    if (this.levelSevere[this.drawn.level]) render(raw ? (this.rawSevereSuffix ??= compileTemplate(SEVERE_SUFFIX, true)) : this.severeSuffix, this.rng, out)
  }

  /** The metadata of the current log of the default shape (drawn after its message). */
  drawMeta(meta: DrawnMeta): DrawnMeta {
    this.nibbles(meta.requestId, 16)
    const rng = this.rng
    meta.userId = 1000 + rng.int(999_000)
    meta.durationMs = rng.int(2000)
    meta.region = rng.int(REGIONS.length)
    meta.env = rng.int(ENVS.length)
    return meta
  }

  /** `n` hex digits of the current log as nibble values, drawn as ByteWriter.hex draws them. */
  nibbles(into: Uint8Array, n: number): void {
    let pos = 0
    for (let i = 0; i < n; i += 7) {
      const word = this.rng.next()
      const count = n - i >= 7 ? 7 : n - i
      for (let j = 0; j < count; j++) into[pos++] = (word >>> (j * 4)) & 15
    }
  }

  private setTimestamp(timestampMs: number): void {
    if (timestampMs !== this.timestampMs) {
      this.timestampMs = timestampMs
      this.timestampBytes = enc(new Date(timestampMs).toISOString())
      this.timestampMsBytes = enc(String(Math.trunc(timestampMs)))
      this.timestampNsBytes = enc(`${Math.trunc(timestampMs)}000000`)
    }
  }

  /** Room `out` needs for one entry. */
  get entryBytes(): number {
    return this.maxEntryBytes
  }

  /**
   * Write log `seq` as JSON: the body template when there is one, the default
   * shape otherwise. Its timestamp is `timestampMs` (the time the batch is
   * built); everything else depends only on the seed and seq.
   */
  writeEntry(out: ByteWriter, seq: number, timestampMs: number): void {
    if (this.template) this.writeTemplated(out, seq, timestampMs, this.template)
    else this.writeLog(out, seq, timestampMs)
  }

  /** Write log `seq` in the default shape. */
  writeLog(out: ByteWriter, seq: number, timestampMs: number): void {
    this.setTimestamp(timestampMs)
    out.ensure(MAX_LOG_BYTES)
    const drawn = this.begin(seq)
    const app = this.apps[drawn.app]
    out.bytes(TIMESTAMP_HEAD)
    out.bytes(this.timestampBytes)
    out.bytes(app.idBytes)
    out.bytes(this.levelBytes[drawn.level])
    out.bytes(MESSAGE_HEAD)
    this.writeMessage(out)
    out.bytes(this.injected ? this.errorSourceHead : app.sourceHeads[this.sourcePick])
    const rng = this.rng
    out.uint(seq)
    out.bytes(REQUEST_HEAD)
    out.hex(rng, 16)
    out.bytes(USER_HEAD)
    out.uint(1000 + rng.int(999_000))
    out.bytes(DURATION_HEAD)
    out.uint(rng.int(2000))
    out.bytes(REGION_HEADS[rng.int(REGION_HEADS.length)])
    out.bytes(ENV_TAILS[rng.int(ENV_TAILS.length)])
  }

  private writeTemplated(out: ByteWriter, seq: number, timestampMs: number, template: BodyTemplate): void {
    this.setTimestamp(timestampMs)
    out.ensure(this.maxEntryBytes)
    const drawn = this.begin(seq)
    for (const part of template.parts) {
      if (part instanceof Uint8Array) {
        out.bytes(part)
        continue
      }

      switch (part.slot) {
        case Field.App: {
          out.bytes(this.apps[drawn.app].nameBytes)
          break
        }

        case Field.Level: {
          out.bytes(this.levelBytes[drawn.level])
          break
        }

        case Field.Message: {
          this.writeMessage(out)
          break
        }

        case Field.Source: {
          out.bytes(this.sourceBytes[drawn.source])
          break
        }

        case Field.RunId: {
          out.bytes(this.runIdBytes)
          break
        }

        case Field.Seq: {
          out.uint(seq)
          break
        }

        case Field.TimeIso: {
          out.bytes(this.timestampBytes)
          break
        }

        case Field.TimeMs: {
          out.bytes(this.timestampMsBytes)
          break
        }

        case Field.TimeS: {
          out.uint(Math.floor(timestampMs / 1000))
          break
        }

        case Field.TimeNs: {
          out.bytes(this.timestampNsBytes)
          break
        }

        default: {
          writeId(out, this.rng.int(part.cardinality))
        }
      }
    }
  }

  /** The JSON text of log `seq` (for tests and tools; the sender uses batch()). */
  log(seq: number, timestampMs: number): string {
    const out = new ByteWriter(this.maxEntryBytes)
    this.writeEntry(out, seq, timestampMs)
    return out.take().toString('utf8')
  }

  /**
   * The body of one batch: the logs whose sequence numbers are
   * `firstSeq, firstSeq + stride, …` (`count` of them), in the payload shape.
   * Written into `out` from its start when given (its memory is reused), a new
   * buffer otherwise. The result shares memory with the writer.
   */
  batch(firstSeq: number, stride: number, count: number, payload: Payload, timestampMs: number, out?: ByteWriter): Buffer {
    return this.batchOf(count, (i) => firstSeq + i * stride, payload, timestampMs, out)
  }

  /** The body of the logs `seqOf(0) … seqOf(count - 1)` in the payload shape (see batch()). */
  batchOf(count: number, seqOf: (i: number) => number, payload: Payload, timestampMs: number, out?: ByteWriter): Buffer {
    const writer = out ?? new ByteWriter(Math.max(1024, count * 400))
    writer.pos = 0
    writer.ensure(16)
    writer.bytes(OPEN[payload])
    const separator = SEPARATOR[payload]
    for (let i = 0; i < count; i++) {
      if (i > 0) {
        writer.ensure(1)
        writer.byte(separator)
      }

      this.writeEntry(writer, seqOf(i), timestampMs)
    }

    writer.ensure(2)
    writer.bytes(CLOSE[payload])
    return writer.take()
  }
}

const ID_HEX = Uint8Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0))

/** Each byte value as its two hex digits. */
const HEX_PAIRS = Uint16Array.from({length: 256}, (_, byte) => ID_HEX[byte >>> 4] | (ID_HEX[byte & 15] << 8))

/** Id number `k` as 16 hex digits that look random (a bijection of k, so N draws give at most N ids). */
function writeId(out: ByteWriter, k: number): void {
  const hi = mix32(k ^ 0x5b_d1_e9_95)
  writeWordHex(out, hi)
  writeWordHex(out, mix32(hi ^ k))
}

function writeWordHex(out: ByteWriter, word: number): void {
  const {buf} = out
  let {pos} = out
  for (let shift = 24; shift >= 0; shift -= 8) {
    const pair = HEX_PAIRS[(word >>> shift) & 255]
    buf[pos++] = pair & 255
    buf[pos++] = pair >>> 8
  }

  out.pos = pos
}
