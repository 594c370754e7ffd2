/**
 * The search for the highest rate a target sustains. Trials are run by an
 * injected function, and time is read from an injected clock, so the search
 * is exact and testable on its own:
 *
 * 1. bracket: from `start`, doubling (capped at `max`), until a trial fails or
 *    `max` passes;
 * 2. bisect with geometric midpoints between the highest passing rate and the
 *    lowest failing one, until high / low − 1 < precision;
 * 3. confirm the highest passing rate with one more trial.
 *
 * The maximum is the highest rate that passed and lies strictly below the
 * lowest rate that failed. A confirmation that fails contradicts the earlier
 * pass: that is said, and the search goes on below it. An inconclusive trial
 * (the generator fell behind) stops the search; so do the budget, an abort and
 * an error, each returning the curve so far.
 */
import {messageOf} from '../errors.js'
import {type Reason, REASONS} from './options.js'

export type Verdict = 'pass' | 'fail' | 'inconclusive'

/** What the search needs of a trial; the trial function may return more. */
export interface TrialOutcome {
  verdict: Verdict
  reasons: Reason[]
}

/** Run one trial at `rate` logs/s; `index` counts trials from 1. */
export type TrialFunction<T extends TrialOutcome> = (rate: number, index: number, signal: AbortSignal | undefined) => Promise<T>

export type Phase = 'bracket' | 'bisect' | 'confirm'

export interface SearchStep<T extends TrialOutcome> {
  index: number
  phase: Phase
  rate: number
  trial: T
}

export type SearchOutcome =
  /** A maximum was found and confirmed. */
  | 'found'
  /** Even the start rate fails (exit 4). */
  | 'start-fails'
  /** --max passed: the limit lies above it. */
  | 'above-max'
  /** A trial was inconclusive: the generator could not offer the rate. */
  | 'generator'
  /** The budget ran out: the best bracket so far. */
  | 'budget'
  /** Aborted (Ctrl+C): the curve so far. */
  | 'interrupted'
  /** A trial could not run (the target went away, say): the curve so far. */
  | 'error'

export interface SearchResult<T extends TrialOutcome> {
  outcome: SearchOutcome
  steps: SearchStep<T>[]
  /** The highest rate that passed strictly below the lowest that failed; null when none did. */
  maximum: number | null
  /** The lowest rate that failed; null when none did. */
  lowestFailing: number | null
  /** What limited the maximum: the reasons of the failing trials at the lowest failing rate (or of the trial that stopped the search). */
  limitedBy: Reason[]
  /** What the search found on its way, in words: contradictions, why it stopped. */
  notes: string[]
  /** The error that stopped the search (outcome "error"). */
  error?: unknown
}

export interface SearchClock {
  /** Milliseconds, monotonic. */
  now(): number
}

export interface SearchOptions<T extends TrialOutcome> {
  start: number
  max?: number
  /** 0.05 for 5%. */
  precision: number
  trial: TrialFunction<T>
  /** Stop before a trial that would end past this many ms since the search began. */
  budgetMs?: number
  /** How long a trial is expected to take (ms), until one has been timed. */
  trialEstimateMs?: number
  clock?: SearchClock
  signal?: AbortSignal
  /** A trial is about to start / has been judged. */
  onStart?: (index: number, phase: Phase, rate: number) => void
  onStep?: (step: SearchStep<T>) => void
  onNote?: (note: string) => void
}

const rateText = (n: number) => `${Math.round(n).toLocaleString('en-US')} logs/s`

const ordered = (reasons: Iterable<Reason>): Reason[] => {
  const set = new Set(reasons)
  return REASONS.filter((reason) => set.has(reason))
}

/** The geometric midpoint of two rates, as a whole number of logs/s. */
export function geometricMidpoint(low: number, high: number): number {
  return Math.round(Math.sqrt(low * high))
}

/** The bracket the trials so far give: the lowest failing rate, and the highest passing rate strictly below it. */
export function bracketOf(steps: readonly SearchStep<TrialOutcome>[]): {low: number | null; high: number | null} {
  const failing = steps.filter((s) => s.trial.verdict === 'fail').map((s) => s.rate)
  const high = failing.length > 0 ? Math.min(...failing) : null
  const passing = steps.filter((s) => s.trial.verdict === 'pass' && (high === null || s.rate < high)).map((s) => s.rate)
  return {high, low: passing.length > 0 ? Math.max(...passing) : null}
}

class Stop extends Error {
  constructor(readonly outcome: SearchOutcome) {
    super(outcome)
  }
}

export async function searchCapacity<T extends TrialOutcome>(options: SearchOptions<T>): Promise<SearchResult<T>> {
  const clock = options.clock ?? {now: () => performance.now()}
  const {max, precision, signal, start} = options
  if (!(start >= 1)) throw new RangeError('start must be at least 1 log/s')
  if (max !== undefined && max < start) throw new RangeError('max must not be below start')
  if (!(precision > 0 && precision < 1)) throw new RangeError('precision must lie in (0, 1)')
  const began = clock.now()
  const steps: SearchStep<T>[] = []
  const notes: string[] = []
  let longestTrialMs = options.trialEstimateMs ?? 0
  let stoppedBy: SearchStep<T> | undefined
  let error: unknown
  const note = (text: string) => {
    notes.push(text)
    options.onNote?.(text)
  }

  const run = async (rate: number, phase: Phase): Promise<SearchStep<T>> => {
    if (signal?.aborted) throw new Stop('interrupted')
    const elapsed = clock.now() - began
    if (options.budgetMs !== undefined && elapsed + longestTrialMs > options.budgetMs) {
      note(`the budget of ${(options.budgetMs / 1000).toFixed(0)} s is spent (${(elapsed / 1000).toFixed(0)} s so far, and a trial takes about ${(longestTrialMs / 1000).toFixed(0)} s): the search stops with the best bracket so far`)
      throw new Stop('budget')
    }

    const index = steps.length + 1
    options.onStart?.(index, phase, rate)
    const startedAt = clock.now()
    let trial: T
    try {
      trial = await options.trial(rate, index, signal)
    } catch (thrown) {
      if (signal?.aborted) {
        note(`interrupted during trial ${index} at ${rateText(rate)}: that trial is not judged`)
        throw new Stop('interrupted')
      }

      error = thrown
      note(`trial ${index} at ${rateText(rate)} could not run: ${messageOf(thrown)}`)
      throw new Stop('error')
    }

    // A trial cut short by Ctrl+C measured less than its window: it is not judged.
    if (signal?.aborted) {
      note(`interrupted during trial ${index} at ${rateText(rate)}: that trial is not judged`)
      throw new Stop('interrupted')
    }

    longestTrialMs = Math.max(longestTrialMs, clock.now() - startedAt)
    const step: SearchStep<T> = {index, phase, rate, trial}
    steps.push(step)
    options.onStep?.(step)
    if (trial.verdict === 'inconclusive') {
      stoppedBy = step
      note(`trial ${index} at ${rateText(rate)} is inconclusive: the generator could not offer that rate, so the result is about the generator, not the target; add workers (--workers) or run them on more hosts`)
      throw new Stop('generator')
    }

    return step
  }

  const finish = (outcome: SearchOutcome): SearchResult<T> => {
    const {high, low} = bracketOf(steps)
    let limitedBy: Reason[] = []
    if (outcome === 'generator' && stoppedBy) limitedBy = ordered(stoppedBy.trial.reasons)
    else if (high !== null) limitedBy = ordered(steps.filter((s) => s.rate === high && s.trial.verdict === 'fail').flatMap((s) => s.trial.reasons))
    return {error, limitedBy, lowestFailing: high, maximum: outcome === 'start-fails' ? null : low, notes, outcome, steps}
  }

  try {
    // 1. Bracket.
    for (let rate = start; ; ) {
      const step = await run(rate, 'bracket')
      if (step.trial.verdict === 'fail') {
        if (rate === start) {
          note(`even the start rate fails: ${rateText(start)} (${step.trial.reasons.join(', ') || 'failed'}); give a lower --start`)
          return finish('start-fails')
        }

        break
      }

      if (max !== undefined && rate >= max) {
        note(`--max ${rateText(max)} passed: the limit lies above --max`)
        return finish('above-max')
      }

      rate = max === undefined ? rate * 2 : Math.min(rate * 2, max)
    }

    // 2. Bisect, 3. confirm; a contradicted confirmation sends the search below it.
    for (;;) {
      let {high, low} = bracketOf(steps)
      if (low === null || high === null) {
        note(`even the start rate fails: ${rateText(start)} passed once, then failed again`)
        return finish('start-fails')
      }

      while (high / low - 1 >= precision) {
        const mid = geometricMidpoint(low, high)
        if (mid <= low || mid >= high) break
        await run(mid, 'bisect')
        ;({high, low} = bracketOf(steps))
        if (low === null || high === null) break
      }

      if (low === null) continue
      const confirmation = await run(low, 'confirm')
      if (confirmation.trial.verdict === 'pass') return finish('found')
      note(
        `the confirmation of ${rateText(low)} failed (${confirmation.trial.reasons.join(', ') || 'failed'}), contradicting its earlier pass: the search goes on below ${rateText(low)}`,
      )
    }
  } catch (stop) {
    if (stop instanceof Stop) return finish(stop.outcome)
    throw stop
  }
}
