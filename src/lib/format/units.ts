/**
 * Number, size, time and text formatting for people. Machines get base units
 * (rows, bytes, ms, ISO-8601) from --json and --csv; these helpers only shape
 * what a terminal shows.
 */

const integer = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0})

/** 1234567 -> "1,234,567"; null/undefined/NaN -> "—". */
export function formatInt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  return integer.format(Math.round(value))
}

/** A number with a fixed count of decimals and thousands separators. */
export function formatFixed(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  return value.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits})
}

/** 0.1234 -> "12.3" (the header says %). */
export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—'
  return (fraction * 100).toFixed(digits)
}

/** 1234567.4 -> "1,234,567" (finite numbers). */
export const int = (n: number): string => formatInt(n)

/** Milliseconds with precision that fits their size: 0.412, 12.3, 1,204. */
export function msText(ms: number): string {
  if (ms === 0) return '0'
  if (ms < 1) return ms.toFixed(3)
  if (ms < 100) return ms.toFixed(1)
  return int(ms)
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`

export const percent = (part: number, whole: number) => (whole === 0 ? '0%' : `${((part / whole) * 100).toFixed(part === whole ? 0 : 1)}%`)

/** 10485760 -> "10.00 MiB". */
export function bytes(n: number): string {
  const scale = byteScale([n])
  return `${formatBytesIn(scale, n)} ${scale.unit}`
}

/** Short human number for axis labels: 950, 12.3k, 4.5M. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value)
  if (abs < 1000) return String(Math.round(value * 10) / 10)
  for (const [limit, suffix] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const) {
    if (abs >= limit) {
      const scaled = value / limit
      return (Math.abs(scaled) >= 100 ? Math.round(scaled).toString() : scaled.toFixed(1).replace(/\.0$/, '')) + suffix
    }
  }

  return String(value)
}

export interface ByteScale {
  unit: 'B' | 'KiB' | 'MiB' | 'GiB' | 'TiB'
  divisor: number
}

const BYTE_UNITS: ByteScale[] = [
  {divisor: 1024 ** 4, unit: 'TiB'},
  {divisor: 1024 ** 3, unit: 'GiB'},
  {divisor: 1024 ** 2, unit: 'MiB'},
  {divisor: 1024, unit: 'KiB'},
  {divisor: 1, unit: 'B'},
]

/** The unit a column of byte counts is shown in, chosen from its largest value (so the header can carry it). */
export function byteScale(values: readonly (number | null | undefined)[]): ByteScale {
  const max = Math.max(0, ...values.map((value) => (typeof value === 'number' && Number.isFinite(value) ? value : 0)))
  return BYTE_UNITS.find((scale) => max >= scale.divisor) ?? BYTE_UNITS.at(-1)!
}

/** A byte count in a scale: "12.34" (the header says MiB). Bytes stay integers. */
export function formatBytesIn(scale: ByteScale, bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—'
  return scale.divisor === 1 ? formatInt(bytes) : formatFixed(bytes / scale.divisor, 2)
}

/** Epoch ms -> ISO-8601 UTC, or null. */
export function isoTime(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return null
  return new Date(ms).toISOString()
}

/** Epoch ms or ISO text -> "2024-05-01 12:00:03" (UTC; the header says so), milliseconds only when there are any. */
export function formatUtc(time: number | string | null | undefined, withMs = false): string {
  if (time === null || time === undefined) return '—'
  const ms = typeof time === 'number' ? time : Date.parse(time)
  if (!Number.isFinite(ms)) return '—'
  const iso = new Date(ms).toISOString()
  return iso.slice(0, 10) + ' ' + iso.slice(11, withMs || ms % 1000 !== 0 ? 23 : 19)
}

/** "12:00:03" (UTC) for axis labels. */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19)
}

/** A bucket width in its largest exact unit: 60000 -> "1m", 1500 -> "1500ms". */
export function formatInterval(ms: number): string {
  if (ms > 0 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms > 0 && ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

/** 61500 -> "1m 1.5s"; 250 -> "250ms". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  if (ms < 1000) return `${Math.round(ms)}ms`
  const totalSeconds = ms / 1000
  if (totalSeconds < 60) return `${Number(totalSeconds.toFixed(totalSeconds < 10 ? 2 : 1))}s`
  const whole = Math.round(totalSeconds)
  const hours = Math.floor(whole / 3600)
  const minutes = Math.floor((whole % 3600) / 60)
  const seconds = whole % 60
  if (hours > 0) return `${hours}h ${minutes}m${seconds ? ` ${seconds}s` : ''}`
  return `${minutes}m${seconds ? ` ${seconds}s` : ''}`
}

/**
 * Text from the data (app ids, run ids, messages) made safe to print on a
 * terminal: control characters, ANSI escapes included, are shown escaped
 * instead of being interpreted, and long values are cut with an ellipsis.
 */
export function displayText(value: string, maxLength = 48): string {
  // eslint-disable-next-line no-control-regex
  const visible = value.replaceAll(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => {
    switch (ch) {
      case '\n': {
        return '\\n'
      }

      case '\r': {
        return '\\r'
      }

      case '\t': {
        return '\\t'
      }

      default: {
        return '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0')
      }
    }
  })
  const chars = [...visible]
  return chars.length > maxLength ? chars.slice(0, maxLength - 1).join('') + '…' : visible
}
