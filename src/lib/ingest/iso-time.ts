/** The usual shape of event times, read without Date.parse (which costs more than the rest of a row). */

/** Two decimal digits at i, or -1000 (which fails every range check) when either is not a digit. */
function two(text: Uint8Array, i: number): number {
  const a = text[i] - 48
  const b = text[i + 1] - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1000
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1-12), in integer arithmetic. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

/**
 * Epoch ms of YYYY-MM-DDTHH:MM:SS[.mmm]Z in text[start, end) (bytes, as received) without
 * Date.parse; NaN when the text has another shape.
 */
export function parseIsoUtc(text: Uint8Array, start: number, end: number): number {
  const length = end - start
  if ((length !== 20 && length !== 24) || text[end - 1] !== 90) return Number.NaN
  if (text[start + 4] !== 45 || text[start + 7] !== 45 || text[start + 10] !== 84) return Number.NaN
  if (text[start + 13] !== 58 || text[start + 16] !== 58) return Number.NaN
  const year = two(text, start) * 100 + two(text, start + 2)
  const month = two(text, start + 5)
  const day = two(text, start + 8)
  const hour = two(text, start + 11)
  const minute = two(text, start + 14)
  const second = two(text, start + 17)
  let ms = 0
  if (length === 24) {
    const frac = two(text, start + 20) * 10 + text[start + 22] - 48
    const last = text[start + 22] - 48
    if (text[start + 19] !== 46 || frac < 0 || last < 0 || last > 9) return Number.NaN
    ms = frac
  }

  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return Number.NaN
  }

  // Only a real date: no 31 April, 29 February only in a leap year.
  if (day > MONTH_DAYS[month - 1] && !(month === 2 && day === 29 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return Number.NaN
  // Years below 100 are read as themselves (Date.UTC would take them as 19xx); every check refuses them anyway.
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms
}
