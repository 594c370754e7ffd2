/** Values typed on the command line: sizes ("10MB", "64KiB"), durations ("250ms", "2s", "1m"), shares ("5%"), intervals. */
import {usageError} from './errors.js'

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  gb: 1e9,
  gib: 1024 ** 3,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
}

/** Bytes of a size; `what` names the flag in the error (exit 2). */
export function parseBytes(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined
  if (!match || unit === undefined) throw usageError(`${what} "${text}" is not a size`, 'write a number and a unit: 65536, 64KiB, 10MB')
  return Math.round(Number(match[1]) * unit)
}

const TIME_UNITS: Record<string, number> = {d: 86_400_000, h: 3_600_000, m: 60_000, min: 60_000, ms: 1, s: 1000}

/**
 * Milliseconds of "500ms", "2s", "1.5m", "1h", "7d". A bare number is in `bareUnit`
 * (seconds unless said otherwise, as for watch -n 2); zero is refused unless allowed.
 * `what` names the flag in the error (exit 2).
 */
export function parseDuration(text: string, what: string, options: {bareUnit?: 'ms' | 's'; allowZero?: boolean} = {}): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?$/i.exec(text.trim())
  if (!match) {
    throw usageError(`${what} "${text}" is not a duration`, `write a number and a unit: 500ms, 2s, 1m, 1h, 1d (a bare number is ${options.bareUnit === 'ms' ? 'milliseconds' : 'seconds'})`)
  }

  const ms = Math.round(Number(match[1]) * TIME_UNITS[(match[2] ?? options.bareUnit ?? 's').toLowerCase()])
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !options.allowZero)) throw usageError(`${what} "${text}" must be longer than zero`)
  return ms
}

/** A share: 0.05 or 5%; `name` is the flag, without its dashes. */
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

/** Logs per second: a whole number, "20000", "20k" or "1.5m"; zero only where allowed. */
export function parseRate(text: string, what: string, options: {allowZero?: boolean} = {}): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$/i.exec(text)
  const value = match ? Number(match[1]) * ({'': 1, k: 1000, m: 1_000_000}[match[2].toLowerCase() as '' | 'k' | 'm']) : Number.NaN
  if (!Number.isFinite(value)) {
    throw usageError(`${what} "${text}" is not a rate`, /^\s*-/.test(text) ? 'a rate is 0 or more logs per second' : 'write logs per second: 20000, 20k, 1.5m')
  }

  if (!Number.isInteger(value)) throw usageError(`${what} "${text}" is not a whole number of logs per second`)
  if (value === 0 && !options.allowZero) throw usageError(`${what} "${text}" must be above 0`)
  return value
}
