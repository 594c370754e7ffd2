import {usageError} from '../errors.js'
import {parseDuration} from '../parse.js'

export {parseDuration} from '../parse.js'

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
    const [year, month, day] = date.split('-').map(Number)
    // Date.parse rolls 31 November over into December: only a real calendar day is a time.
    const realDay = month >= 1 && month <= 12 && new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day
    const ms = Date.parse(`${date}T${time ?? '00:00:00'}${zone ? zone.toUpperCase() : 'Z'}`)
    if (realDay && Number.isFinite(ms)) return ms
  }

  throw usageError(
    `${what} "${text}" is not a time`,
    'use a duration ago (30m, 2h, 1d), an ISO-8601 time (2024-05-01T12:00:00Z; no zone means UTC) or epoch seconds/milliseconds',
  )
}
