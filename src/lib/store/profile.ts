/**
 * The table profile: which column (or which key inside a JSON text column or a
 * Map column) plays each role logbench needs. It is read once from
 * system.columns and is the only place that knows column names; reports,
 * verification and cleanup ask it for SQL expressions.
 *
 * Detected shapes:
 * - logbench's own schema (timestamp, created_at, app_id, level, …, run_id, seq);
 * - the guide's: run id and seq inside a JSON text column such as `metadata`;
 * - the OpenTelemetry ClickHouse exporter's `otel_logs` (Timestamp, ServiceName,
 *   SeverityText, Body; run id and seq in LogAttributes['logbench.run_id' / 'logbench.seq']).
 * `--column role=column[.key]` overrides any role. A flag is never SQL: columns
 * must exist and be identifiers, keys are validated and written as escaped
 * string literals, and every extraction is built here.
 */
import type {Capabilities} from './capabilities.js'
import type {Store} from './types.js'

import {usageError} from '../errors.js'
import {isIdentifier, quoteIdentifier, quoteString} from './sql.js'

export const ROLES = ['event_time', 'ingest_time', 'app', 'level', 'message', 'source', 'run_id', 'seq'] as const
export type Role = (typeof ROLES)[number]

type RoleKind = 'time' | 'text' | 'number'

export const ROLE_KIND: Record<Role, RoleKind> = {
  app: 'text',
  event_time: 'time',
  ingest_time: 'time',
  level: 'text',
  message: 'text',
  run_id: 'text',
  seq: 'number',
  source: 'text',
}

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  app: 'the application or service that logged',
  event_time: 'when the log was made (the client time)',
  ingest_time: 'when the row was stored',
  level: 'the log level',
  message: 'the log text',
  run_id: 'the load-test run the log belongs to',
  seq: 'the sequence number of the log within its run',
  source: 'the logger or component',
}

/** A role's place as the user names it: a column, or a key inside one. */
export interface ColumnRef {
  column: string
  key?: string
}

export type ProfileOverrides = Partial<Record<Role, ColumnRef>>

/** Keys inside JSON or Map columns: what log attribute names look like, and nothing that could end a literal. */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.:@/-]{0,127}$/

const ROLE_ALIASES: Record<string, Role> = {
  app_id: 'app',
  created_at: 'ingest_time',
  service: 'app',
  timestamp: 'event_time',
}

/** `--column role=column[.key]` values -> overrides; anything else is a usage error naming the value. */
export function parseColumnFlags(values: readonly string[] | undefined): ProfileOverrides {
  const out: ProfileOverrides = {}
  for (const value of values ?? []) {
    const eq = value.indexOf('=')
    const name = (eq < 0 ? value : value.slice(0, eq)).trim()
    const role = (ROLES as readonly string[]).includes(name) ? (name as Role) : ROLE_ALIASES[name]
    if (eq < 0 || !role) {
      throw usageError(
        `--column "${value}" ${role ? 'needs a column' : `names no role${name ? ` ("${name}")` : ''}`}`,
        `use --column ROLE=COLUMN or ROLE=COLUMN.KEY, with ROLE one of ${ROLES.join(', ')}`,
      )
    }

    const spec = value.slice(eq + 1).trim()
    const dot = spec.indexOf('.')
    const column = dot < 0 ? spec : spec.slice(0, dot)
    const key = dot < 0 ? undefined : spec.slice(dot + 1)
    if (!isIdentifier(column)) {
      throw usageError(`--column ${name}: "${column}" is not a column name`, 'a column is letters, digits and underscores, starting with a letter or underscore')
    }

    if (key !== undefined && !KEY.test(key)) {
      throw usageError(
        `--column ${name}: the key "${key}" is not allowed`,
        'a key is letters, digits and . _ : @ / - (at most 128, no quotes, backslashes or spaces)',
      )
    }

    if (out[role]) throw usageError(`--column ${role} is given twice`)
    out[role] = key === undefined ? {column} : {column, key}
  }

  return out
}

export interface ColumnInfo {
  name: string
  type: string
}

/** How a role is read. */
export type Binding =
  | {source: 'column'; column: string; type: string}
  | {source: 'json'; column: string; key: string}
  | {source: 'map'; column: string; key: string; valueType: string}

export type Shape = 'logbench' | 'guide' | 'otel' | 'custom'

export interface TableProfile {
  database: string
  table: string
  exists: boolean
  engine: string | null
  shape: Shape
  columns: ColumnInfo[]
  bindings: Partial<Record<Role, Binding>>
  /** Roles whose binding came from a --column flag. */
  fromFlags: Role[]
}

/** The profile as `--json` and doctor show it: role -> "column", "column.key" or null. */
export interface ProfileSummary {
  table: string
  shape: Shape
  engine: string | null
  roles: Record<Role, string | null>
  fromFlags: Role[]
}

const LOGBENCH_COLUMNS = ['timestamp', 'created_at', 'app_id', 'level', 'message', 'source', 'metadata', 'run_id', 'seq']

/** Column names tried, in order, for each role (case-insensitive). */
const CANDIDATES: Record<Role, string[]> = {
  app: ['app_id', 'app', 'application', 'service', 'service_name', 'servicename'],
  event_time: ['timestamp', 'event_time', 'ts', 'time', 'log_time', 'event_timestamp'],
  ingest_time: ['created_at', 'ingested_at', 'inserted_at', 'received_at', 'ingest_time', 'observed_timestamp', 'observedtimestamp'],
  level: ['level', 'severity', 'log_level', 'severitytext', 'severity_text'],
  message: ['message', 'msg', 'body', 'log', 'line', 'text'],
  run_id: ['run_id', 'runid'],
  seq: ['seq', 'sequence', 'seq_no'],
  source: ['source', 'logger', 'component', 'scopename', 'scope_name'],
}

/** Text columns that commonly hold a JSON object of attributes. */
const JSON_COLUMNS = ['metadata', 'attributes', 'attrs', 'extra', 'context', 'fields', 'labels', 'meta']
/** Map columns of attributes, with the keys logbench's protocols write. */
const MAP_COLUMNS = ['LogAttributes', 'attributes', 'Attributes', 'labels']

const unwrap = (type: string): string => {
  let t = type.trim()
  for (;;) {
    const m = /^(?:LowCardinality|Nullable)\((.*)\)$/.exec(t)
    if (!m) return t
    t = m[1].trim()
  }
}

const isTextType = (type: string) => /^(String|FixedString\(\d+\)|Enum(8|16)?\(.*\))$/s.test(unwrap(type))
const isIntType = (type: string) => /^U?Int(8|16|32|64|128|256)$/.test(unwrap(type))
const isTimeType = (type: string) => /^DateTime(64)?(\(.*\))?$/.test(unwrap(type))
const isMapType = (type: string) => /^Map\(/.test(unwrap(type))
const isJsonTextType = (type: string) => unwrap(type) === 'String' || /^JSON/.test(unwrap(type))

function fits(role: Role, type: string): boolean {
  const kind = ROLE_KIND[role]
  if (kind === 'time') return isTimeType(type)
  if (kind === 'number') return isIntType(type) || unwrap(type) === 'String'
  return isTextType(type)
}

function findColumn(columns: readonly ColumnInfo[], names: readonly string[], accept: (type: string) => boolean): ColumnInfo | undefined {
  for (const name of names) {
    const hit = columns.find((c) => c.name.toLowerCase() === name.toLowerCase() && accept(c.type))
    if (hit) return hit
  }

  return undefined
}

function mapValueType(type: string): string {
  const inner = /^Map\((.*)\)$/s.exec(unwrap(type))?.[1] ?? ''
  // Map(K, V): the value type is after the first top-level comma.
  let depth = 0
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]
    if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) return inner.slice(i + 1).trim()
  }

  return 'String'
}

/** The binding a --column flag asks for, checked against the table's columns. */
function bindingOf(role: Role, ref: ColumnRef, columns: readonly ColumnInfo[], where: string): Binding {
  const column = columns.find((c) => c.name === ref.column)
  if (!column) {
    const near = columns.find((c) => c.name.toLowerCase() === ref.column.toLowerCase())
    throw usageError(
      `--column ${role}: ${where} has no column "${ref.column}"`,
      near ? `did you mean "${near.name}"?` : `its columns: ${columns.map((c) => c.name).join(', ') || '(none: does the table exist?)'}`,
    )
  }

  if (ref.key === undefined) {
    if (!fits(role, column.type)) {
      const want = ROLE_KIND[role] === 'time' ? 'a DateTime or DateTime64 column' : ROLE_KIND[role] === 'number' ? 'an integer or String column' : 'a String or Enum column'
      throw usageError(`--column ${role}: ${column.name} is ${column.type}, but ${role} needs ${want}`, 'name another column, or a key inside a JSON or Map column (COLUMN.KEY)')
    }

    return {column: column.name, source: 'column', type: column.type}
  }

  if (ROLE_KIND[role] === 'time') {
    throw usageError(`--column ${role}: a time is read from a DateTime column, not from a key inside ${column.name}`)
  }

  if (isMapType(column.type)) return {column: column.name, key: ref.key, source: 'map', valueType: mapValueType(column.type)}
  if (isJsonTextType(column.type)) return {column: column.name, key: ref.key, source: 'json'}
  throw usageError(`--column ${role}: ${column.name} is ${column.type}; a key can be read only from a JSON text (String) or Map column`)
}

function detect(columns: readonly ColumnInfo[]): {shape: Shape; bindings: Partial<Record<Role, Binding>>} {
  const bindings: Partial<Record<Role, Binding>> = {}
  const names = new Set(columns.map((c) => c.name))
  const col = (c: ColumnInfo): Binding => ({column: c.name, source: 'column', type: c.type})
  const otel = ['Timestamp', 'ServiceName', 'Body', 'LogAttributes'].every((name) => names.has(name))
  if (otel) {
    const byName = (name: string) => columns.find((c) => c.name === name)!
    bindings.event_time = col(byName('Timestamp'))
    bindings.app = col(byName('ServiceName'))
    bindings.message = col(byName('Body'))
    if (names.has('SeverityText')) bindings.level = col(byName('SeverityText'))
    if (names.has('ScopeName')) bindings.source = col(byName('ScopeName'))
    const observed = columns.find((c) => c.name === 'ObservedTimestamp' && isTimeType(c.type))
    if (observed) bindings.ingest_time = col(observed)
    const attrs = byName('LogAttributes')
    if (isMapType(attrs.type)) {
      const valueType = mapValueType(attrs.type)
      bindings.run_id = {column: attrs.name, key: 'logbench.run_id', source: 'map', valueType}
      bindings.seq = {column: attrs.name, key: 'logbench.seq', source: 'map', valueType}
    }

    return {bindings, shape: 'otel'}
  }

  for (const role of ROLES) {
    const hit = findColumn(columns, CANDIDATES[role], (type) => (role === 'seq' ? isIntType(type) : fits(role, type)))
    if (hit) bindings[role] = col(hit)
  }

  // The event time and the ingest time are two different columns, or the one column is the ingest time.
  if (bindings.event_time && bindings.ingest_time && bindings.event_time.column === bindings.ingest_time.column) delete bindings.event_time
  let jsonKeys = false
  for (const role of ['run_id', 'seq'] as const) {
    if (bindings[role]) continue
    const map = findColumn(columns, MAP_COLUMNS, isMapType)
    if (map) {
      bindings[role] = {column: map.name, key: `logbench.${role}`, source: 'map', valueType: mapValueType(map.type)}
      continue
    }

    const json = findColumn(columns, JSON_COLUMNS, isJsonTextType)
    if (json) {
      bindings[role] = {column: json.name, key: role, source: 'json'}
      jsonKeys = true
    }
  }

  const shape: Shape = LOGBENCH_COLUMNS.every((name) => names.has(name)) ? 'logbench' : jsonKeys ? 'guide' : 'custom'
  return {bindings, shape}
}

/** Build a profile from a table's columns and the user's overrides (exported for tests). */
export function buildProfile(
  table: {database: string; table: string; engine: string | null; columns: readonly ColumnInfo[]},
  overrides: ProfileOverrides = {},
): TableProfile {
  const {bindings, shape} = detect(table.columns)
  const fromFlags: Role[] = []
  for (const role of ROLES) {
    const ref = overrides[role]
    if (!ref) continue
    bindings[role] = bindingOf(role, ref, table.columns, `${table.database}.${table.table}`)
    fromFlags.push(role)
  }

  return {
    bindings,
    columns: [...table.columns],
    database: table.database,
    engine: table.engine,
    exists: table.columns.length > 0,
    fromFlags,
    shape,
    table: table.table,
  }
}

/** Read the store's table once and map its roles. A missing table gives a profile with no roles (exists: false). */
export async function readProfile(store: Store, overrides: ProfileOverrides = {}, signal?: AbortSignal): Promise<TableProfile> {
  const {database, table} = store.info
  // system.columns lists a table's columns in their order on every version (18.16 has no `position` to sort by).
  const columns = await store.query<ColumnInfo>('SELECT name, type FROM system.columns WHERE database = {p_db:String} AND table = {p_table:String}', {p_db: database, p_table: table}, {signal})
  const [engine] = await store.query<{engine: string}>('SELECT engine FROM system.tables WHERE database = {p_db:String} AND name = {p_table:String}', {p_db: database, p_table: table}, {signal})
  if (columns.length === 0 && Object.keys(overrides).length > 0) {
    throw usageError(`--column: the table ${database}.${table} does not exist`, 'check --database and --table')
  }

  return buildProfile({columns, database, engine: engine?.engine ?? null, table}, overrides)
}

export function describeBinding(binding: Binding | undefined): string | null {
  if (!binding) return null
  return binding.source === 'column' ? binding.column : `${binding.column}.${binding.key}`
}

export function summarizeProfile(profile: TableProfile): ProfileSummary {
  const roles = {} as Record<Role, string | null>
  for (const role of ROLES) roles[role] = describeBinding(profile.bindings[role])
  return {engine: profile.engine, fromFlags: [...profile.fromFlags], roles, shape: profile.shape, table: `${profile.database}.${profile.table}`}
}

/** A role a feature needs is not mapped: the message names the flag that supplies it. */
export function missingRole(profile: TableProfile, role: Role, feature: string): string {
  return `${profile.database}.${profile.table} has no ${role} (${ROLE_DESCRIPTIONS[role]}) for ${feature}: pass --column ${role}=COLUMN (or COLUMN.KEY for a key inside a JSON or Map column)`
}

// ---------------------------------------------------------------------------
// SQL for roles. Only validated identifiers and escaped literals go in.

/** Role expressions for one profile on one server. */
export class ProfileSql {
  constructor(
    readonly profile: TableProfile,
    private readonly caps: Pick<Capabilities, 'dateTime64' | 'jsonExtract'>,
  ) {}

  has(role: Role): boolean {
    return this.profile.bindings[role] !== undefined
  }

  /**
   * The role a feature lacks: needs lists alternatives (one of each inner list must be mapped); the
   * answer is the first role of the first list with none mapped, or undefined when all are met.
   */
  lacking(needs: readonly (readonly Role[])[]): Role | undefined {
    return needs.find((roles) => !roles.some((role) => this.has(role)))?.[0]
  }

  /** The first of these roles that is mapped. */
  first(...roles: Role[]): Role | undefined {
    return roles.find((role) => this.has(role))
  }

  private binding(role: Role): Binding {
    const binding = this.profile.bindings[role]
    if (!binding) throw usageError(missingRole(this.profile, role, 'this'))
    return binding
  }

  /** The role as a value: String for text roles (level in lower case), UInt64 for seq, the column itself for times. */
  expr(role: Role): string {
    const b = this.binding(role)
    const kind = ROLE_KIND[role]
    const column = quoteIdentifier(b.column)
    if (b.source === 'column') {
      if (kind === 'time') return column
      if (kind === 'number') return isIntType(b.type) ? (unwrap(b.type) === 'UInt64' ? column : `toUInt64(${column})`) : `toUInt64OrZero(${column})`
      // Plain String and Enum columns compare with string values as they are (a sort key on them stays usable).
      const plain = (unwrap(b.type) === 'String' || /^Enum/.test(unwrap(b.type))) && !/Nullable/.test(b.type)
      const text = plain ? column : `toString(${column})`
      return role === 'level' && !/Enum/.test(b.type) ? `lower(${text})` : text
    }

    const key = quoteString(b.key)
    let text: string
    if (b.source === 'map') {
      if (kind === 'number') return isIntType(b.valueType) ? `toUInt64(${column}[${key}])` : `toUInt64OrZero(toString(${column}[${key}]))`
      text = unwrap(b.valueType) === 'String' ? `${column}[${key}]` : `toString(${column}[${key}])`
    } else {
      if (kind === 'number') return this.caps.jsonExtract ? `JSONExtractUInt(${column}, ${key})` : `visitParamExtractUInt(${column}, ${key})`
      text = this.caps.jsonExtract ? `JSONExtractString(${column}, ${key})` : `visitParamExtractString(${column}, ${key})`
    }

    return role === 'level' ? `lower(${text})` : text
  }

  /** A time role (or an aggregate of it, e.g. "min") as epoch milliseconds. */
  timeMs(role: Role, aggregate?: 'min' | 'max'): string {
    const b = this.binding(role)
    const inner = aggregate ? `${aggregate}(${this.expr(role)})` : this.expr(role)
    if (b.source === 'column' && /^DateTime64/.test(unwrap(b.type))) return `toUnixTimestamp64Milli(${inner})`
    return `toUInt64(toUnixTimestamp(${inner})) * 1000`
  }

  /** Precision of a time role in ms: 1000 for DateTime, 10^(3-p) for DateTime64(p) (at least 1). */
  resolutionMs(role: Role): number {
    const b = this.binding(role)
    const precision = b.source === 'column' ? /^DateTime64\((\d+)/.exec(unwrap(b.type))?.[1] : undefined
    if (precision === undefined) return 1000
    return Math.max(1, 10 ** (3 - Number(precision)))
  }

  /** A bound time as a typed parameter comparable with the role's column. */
  timeParam(role: Role, ms: number): {type: string; value: string | number} {
    const seconds = Math.floor(ms / 1000)
    if (this.resolutionMs(role) < 1000 && this.caps.dateTime64) {
      return {type: 'DateTime64(3)', value: `${seconds}.${String(ms - seconds * 1000).padStart(3, '0')}`}
    }

    return {type: 'DateTime', value: seconds}
  }
}

/** Read the store's table profile and give the SQL for its roles. */
export async function profileSql(store: Store, overrides: ProfileOverrides = {}, signal?: AbortSignal): Promise<ProfileSql> {
  return new ProfileSql(await readProfile(store, overrides, signal), store.info.capabilities)
}
