/**
 * The document of a capacity search: what `capacity --json` prints and what
 * its reports are drawn from. Numbers are in base units (logs/s, ms, shares).
 */
import type {Reason} from './options.js'
import type {SearchOutcome} from './search.js'
import type {TrialRecord} from './trial.js'

import {formatFixed, formatInt} from '../format/units.js'

export const CAPACITY_VERSION = 1

export interface CapacityConfig {
  /** Where the trials sent (our own serve's URL in a zero set-up search). */
  target: string
  workers: number
  slos: {expression: string; reason: Reason; implicit: boolean}[]
  startLogsPerSecond: number
  maxLogsPerSecond: number | null
  precision: number
  trialMs: number
  warmupMs: number
  budgetMs: number | null
  intervalMs: number
  batchSize: number
  protocol: string
  payload: string
  maxInFlight: number
  retries: number
  timeoutMs: number
  seed: number
  verify: boolean
  verifyWaitMs: number
}

export interface CapacityResult {
  kind: 'capacity'
  version: number
  startedAt: string
  endedAt: string
  durationMs: number
  outcome: SearchOutcome
  /** The highest rate that passed, strictly below the lowest that failed, and what limited it. */
  maxSustainable: {
    logsPerSecond: number | null
    limitedBy: Reason[]
    /** The lowest rate that failed: the maximum lies below it. */
    lowestFailingLogsPerSecond: number | null
    /** --max passed: the limit lies above it. */
    aboveMax: boolean
  }
  /** One line: the maximum and what limited it. */
  headline: string
  /** What the search met on its way: contradicted confirmations, why it stopped. */
  notes: string[]
  trials: TrialRecord[]
  config: CapacityConfig
  /** Without --target: our own serve and its store. */
  stack?: string
  /** Why the trials were not verified, when they were not. */
  verificationNote?: string
  /** The trials were to be verified in a named store whose table cannot be (exit 5). */
  unverifiable?: boolean
  interrupted: boolean
  /** The error that stopped the search, when one did (the curve so far is kept). */
  error?: {message: string; exitCode: number; kind: string; suggestion?: string}
}

const rate = (n: number) => `${formatInt(n)} logs/s`
const percent = (share: number) => `${formatFixed(share * 100, share * 100 < 1 ? 1 : 0)}%`

/** "max sustainable: N logs/s (±precision), limited by …", or what the search found instead. */
export function headline(result: Pick<CapacityResult, 'outcome' | 'maxSustainable' | 'trials'> & {config: Pick<CapacityConfig, 'precision' | 'startLogsPerSecond'>}): string {
  const {limitedBy, logsPerSecond, lowestFailingLogsPerSecond} = result.maxSustainable
  const by = limitedBy.length > 0 ? `, limited by ${limitedBy.join(', ')}` : ''
  const bounds = logsPerSecond !== null && lowestFailingLogsPerSecond !== null ? `between ${rate(logsPerSecond)} and ${rate(lowestFailingLogsPerSecond)}` : undefined
  const atLeast = logsPerSecond === null ? '' : `at least ${rate(logsPerSecond)}`
  const sofar = bounds ?? (atLeast || 'unknown (no trial passed)')
  switch (result.outcome) {
    case 'found': {
      return `max sustainable: ${rate(logsPerSecond!)} (±${percent(result.config.precision)})${by}`
    }

    case 'start-fails': {
      return `even the start rate fails: ${rate(result.config.startLogsPerSecond)}${by}`
    }

    case 'above-max': {
      return `max sustainable: ${atLeast} (--max passed: the limit lies above it)`
    }

    case 'generator': {
      const last = result.trials.at(-1)
      return `inconclusive: the generator could not offer ${last ? rate(last.offeredLogsPerSecond) : 'the rate'}${logsPerSecond === null ? '' : `; max sustainable so far: ${atLeast}`}; add workers`
    }

    case 'budget': {
      return `budget spent: max sustainable ${sofar}${by}`
    }

    case 'interrupted': {
      return `interrupted: max sustainable so far ${sofar}${by}`
    }

    default: {
      return `the search stopped: max sustainable so far ${sofar}${by}`
    }
  }
}
