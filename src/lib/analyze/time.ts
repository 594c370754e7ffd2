import {usageError} from '../errors.js'

const UNITS: Record<string, number> = {d: 86_400_000, h: 3_600_000, m: 60_000, ms: 1, s: 1000}

/**
 * "500ms", "2s", "1.5m", "1h", "7d" -> milliseconds; a bare number is seconds
 * (as for watch -n 2). `what` names the flag in the error.
 */
export function parseDuration(text: string, what: string): number {
  const trimmed = text.trim()
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(trimmed)
  if (!match) {
    throw usageError(`${what} "${text}" is not a duration`, 'write a number and a unit: 500ms, 2s, 1m, 1h, 1d (a bare number is seconds)')
  }

  const ms = Number(match[1]) * UNITS[(match[2] ?? 's').toLowerCase()]
  if (!Number.isFinite(ms) || ms <= 0) throw usageError(`${what} "${text}" must be longer than zero`)
  return Math.round(ms)
}

/**
 * A point in time from the command line, as epoch ms:
 * - a duration means that long ago: "30m", "2h", "1d";
 * - ISO-8601 "2024-05-01T12:00:00Z", "2024-05-01 12:00", "2024-05-01" (no zone means UTC, like every time logbench prints);
 * - epoch seconds (10 digits) or milliseconds (13 digits);
 * - "now".
 */
export function parseTime(text: string, what: string, now = Date.now()): number {
  const trimmed = text.trim()
  if (/^now$/i.test(trimmed)) return now
  if (/^\d+(?:\.\d+)?\s*(ms|s|m|h|d)$/i.test(trimmed)) return now - parseDuration(trimmed, what)
  if (/^\d{9,13}$/.test(trimmed)) return trimmed.length >= 12 ? Number(trimmed) : Number(trimmed) * 1000
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(trimmed)
  if (iso) {
    const [, date, time, zone] = iso
    const ms = Date.parse(`${date}T${time ?? '00:00:00'}${zone ? zone.toUpperCase() : 'Z'}`)
    if (Number.isFinite(ms)) return ms
  }

  throw usageError(
    `${what} "${text}" is not a time`,
    'use a duration ago (30m, 2h, 1d), an ISO-8601 time (2024-05-01T12:00:00Z; no zone means UTC) or epoch seconds/milliseconds',
  )
}
