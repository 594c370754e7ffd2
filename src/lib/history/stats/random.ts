/**
 * A seeded source of uniform numbers. The statistics take one as a parameter,
 * so a comparison of the same two runs prints the same intervals every time,
 * and tests are deterministic.
 */

/** Uniform numbers in [0, 1). */
export type Random = () => number

/** The seed `compare` uses unless told otherwise: the same inputs give the same output. */
export const DEFAULT_SEED = 0x5eed

/**
 * sfc32 (Chris Doty-Humphrey's small fast counting generator), seeded by
 * splitmix32 from one 32-bit seed: fast, well mixed, and plenty for resampling.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0
  const splitmix = () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }

  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = 1
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t
  }

  // The first outputs still carry the seed's structure.
  for (let i = 0; i < 12; i++) next()
  return () => next() / 4_294_967_296
}

/** An integer in [0, n). */
export function randomIndex(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n))
}
