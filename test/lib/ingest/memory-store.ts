/**
 * An in-memory Store for serve's own bookkeeping tests (idempotency, limits,
 * refusals, shutdown): inserts the test can hold or fail, each recorded.
 * Storage itself is tested against real ClickHouse in test/e2e/.
 */
import {capabilitiesFor, parseVersion, type Store} from '../../../src/lib/store/index.js'

export class MemoryStore implements Store {
  readonly info = {
    capabilities: capabilitiesFor(parseVersion('18.16.1')),
    database: 'logs_db',
    kind: 'server' as const,
    location: 'memory',
    table: 'logs',
    version: parseVersion('18.16.1'),
  }

  readonly tableRef = '`logs_db`.`logs`'
  rows: Record<string, unknown>[] = []
  /** Rows of each INSERT, in the order they started. */
  inserts: number[] = []
  /** Each insert waits for this; the test resolves or rejects it. */
  gate: (() => Promise<void>) | undefined
  private readonly started: (() => void)[] = []

  async close() {}
  async command() {}
  async ensureSchema() {}
  async insert(body: string | Uint8Array | readonly Uint8Array[]) {
    const text = Buffer.from(body as Uint8Array).toString('utf8')
    const rows = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    this.inserts.push(rows.length)
    for (const wake of this.started.splice(0)) wake()
    await this.gate?.()
    this.rows.push(...rows)
  }

  /** Resolves once `count` inserts have started. */
  async insertsStarted(count: number): Promise<void> {
    while (this.inserts.length < count) await new Promise<void>((resolve) => this.started.push(resolve))
  }

  async ping() {
    return true
  }

  async query<T>(): Promise<T[]> {
    return []
  }

  async schemaExists() {
    return true
  }
}

/** A gate for MemoryStore.gate: every insert waits until open() or fail(). */
export function insertGate(): {gate: () => Promise<void>; open: () => void; fail: (error: Error) => void} {
  let open!: () => void
  let fail!: (error: Error) => void
  const held = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  held.catch(() => {})
  return {fail, gate: () => held, open}
}

/** Wait (without a time bound of its own) until `check` holds. */
export async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** The value of an unlabelled metric, or of one label set. */
export async function metricValue(metric: {get(): Promise<{values: {value: number; labels: Record<string, unknown>}[]}> | {values: {value: number; labels: Record<string, unknown>}[]}}, labels: Record<string, string> = {}): Promise<number> {
  const {values} = await metric.get()
  const found = values.find((entry) => Object.entries(labels).every(([key, value]) => entry.labels[key] === value))
  return found?.value ?? 0
}
