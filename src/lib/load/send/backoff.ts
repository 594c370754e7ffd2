/**
 * How long to wait before another try: exponential back-off with full
 * jitter, a Retry-After as its floor (which failures get one: error-class.ts).
 */

export interface BackoffTuning {
  /** The first back-off's ceiling, ms (doubles each attempt). */
  baseMs: number
  /** The largest ceiling, ms. */
  capMs: number
  /** Longest Retry-After honoured, ms. */
  retryAfterCapMs: number
}

export const DEFAULT_BACKOFF: BackoffTuning = {baseMs: 100, capMs: 5000, retryAfterCapMs: 60_000}

/** Exponential back-off with full jitter; a Retry-After, when given, is the floor. */
export function backoffMs(attempt: number, retryAfterMs: number | undefined, random: () => number, {baseMs, capMs, retryAfterCapMs}: BackoffTuning): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt)
  const jittered = random() * ceiling
  if (retryAfterMs === undefined) return jittered
  const floor = Math.min(retryAfterCapMs, retryAfterMs)
  // A little jitter above the floor so retried batches do not all return at once.
  return floor + random() * Math.min(ceiling, Math.max(50, floor * 0.1))
}
