/** Sizes and durations typed on the command line: "10MB", "64KiB", "250ms", "2s", "1m". */

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

export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined
  if (!match || unit === undefined) throw new TypeError(`"${text}" is not a size (examples: 65536, 64KiB, 10MB)`)
  return Math.round(Number(match[1]) * unit)
}

const TIME_UNITS: Record<string, number> = {'': 1, h: 3_600_000, m: 60_000, min: 60_000, ms: 1, s: 1000, us: 0.001}

/** Milliseconds of a duration; a bare number is milliseconds unless `bareUnit` says otherwise. */
export function parseDuration(text: string, bareUnit: 'ms' | 's' = 'ms'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match ? (match[2] === '' ? TIME_UNITS[bareUnit] : TIME_UNITS[match[2].toLowerCase()]) : undefined
  if (!match || unit === undefined) throw new TypeError(`"${text}" is not a duration (examples: 250ms, 2s, 1m)`)
  return Number(match[1]) * unit
}
