/**
 * Test data for the analyze and cleanup tests: log rows like `run` makes,
 * deterministic, with several runs, apps and levels, a burst, ingest delays,
 * and created_at spread over the last few minutes (the guide's rate query
 * looks at the last 30 minutes).
 */
import type {Capabilities, Level, LogRow, Store} from '../../../src/lib/store/index.js'

import {makeRowEncoder} from '../../../src/lib/store/index.js'

export const APPS = ['payment-service', 'auth-service', 'api-gateway', "o'brien-svc"] as const
export const RUNS = ['run-alpha', 'run-beta', 'run-gamma'] as const
const APP_WEIGHTS = [0.5, 0.25, 0.15, 0.1]
const LEVEL_WEIGHTS: [Level, number][] = [
  ['info', 0.6],
  ['debug', 0.15],
  ['warn', 0.15],
  ['error', 0.08],
  ['fatal', 0.02],
]

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d_2b_79_f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

function pick<T>(random: () => number, items: readonly T[], weights: readonly number[]): T {
  let r = random()
  for (const [i, weight] of weights.entries()) {
    r -= weight
    if (r < 0) return items[i]
  }

  return items.at(-1)!
}

export interface DatasetOptions {
  /** Rows per run; default 10 000, 6 000, 4 000. */
  perRun?: readonly number[]
  /** created_at of the last row is about this long before now (default 5 s). */
  endsAgoMs?: number
  seed?: number
  now?: number
}

/**
 * run-alpha: over 120 s, with a third of its rows in a 3-second burst;
 * run-beta: over 60 s, starting 100 s in; run-gamma: over 30 s, at the end.
 * timestamp is created_at minus a delay of 0..3 s, or 0.5 s after it for 1 %.
 */
export function makeDataset(options: DatasetOptions = {}): LogRow[] {
  const random = mulberry32(options.seed ?? 42)
  const perRun = options.perRun ?? [10_000, 6000, 4000]
  const end = (options.now ?? Date.now()) - (options.endsAgoMs ?? 5000)
  const start = end - 180_000
  const spans = [
    [start, 120_000],
    [start + 100_000, 60_000],
    [start + 150_000, 30_000],
  ] as const
  const rows: LogRow[] = []
  for (const [r, runId] of RUNS.entries()) {
    const count = perRun[r] ?? 0
    const [runStart, span] = spans[r]
    for (let seq = 0; seq < count; seq++) {
      const burst = r === 0 && random() < 1 / 3
      const created = Math.floor(burst ? runStart + 40_000 + random() * 3000 : runStart + random() * span)
      const delay = random() < 0.01 ? -500 : Math.floor(random() ** 2 * 3000)
      const app = pick(random, APPS, APP_WEIGHTS)
      rows.push({
        app_id: app,
        batch_id: `${runId}-b${Math.floor(seq / 500)}`,
        created_at: created,
        level: pick(
          random,
          LEVEL_WEIGHTS.map(([level]) => level),
          LEVEL_WEIGHTS.map(([, weight]) => weight),
        ),
        message: `request ${seq} handled in ${Math.floor(random() * 500)} ms`,
        metadata: JSON.stringify({run: runId, seq}),
        run_id: runId,
        seq,
        source: `${app}-pod-${seq % 3}`,
        timestamp: created - delay,
      })
    }
  }

  return rows
}

/** Insert rows in chunks (several parts, as a real run makes). */
export async function insertRows(store: Store, rows: readonly LogRow[], chunk = 5000): Promise<void> {
  const encode = makeRowEncoder(store.info.capabilities)
  for (let i = 0; i < rows.length; i += chunk) {
    await store.insert(
      rows
        .slice(i, i + chunk)
        .map((row) => encode(row))
        .join(''),
    )
  }
}

/** A time as the table stores it: to the millisecond with DateTime64(3), floored to the second with DateTime. */
export function stored(ms: number, caps: Pick<Capabilities, 'dateTime64'>): number {
  return caps.dateTime64 ? ms : Math.floor(ms / 1000) * 1000
}

/** ClickHouse's quantileExact: the element at index floor(level × n) of the sorted values. */
export function quantileExact(sorted: readonly number[], level: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(level * sorted.length))]
}

/** Count by a key. */
export function countBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, number> {
  const out = new Map<string, number>()
  for (const row of rows) out.set(key(row), (out.get(key(row)) ?? 0) + 1)
  return out
}
