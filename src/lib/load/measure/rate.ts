/** Rates and rounding of measured figures, as the result documents give them. */

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** Logs per second of `count` over `ms`. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? round((count * 1000) / ms, 1) : 0
}
