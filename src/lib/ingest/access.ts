/** Who may use serve's guarded routes: the bearer token, compared in constant time. */
import {createHash, timingSafeEqual} from 'node:crypto'

/** Constant-time comparison of a presented bearer token with the configured one. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? ''
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b) && presented.length > 0
}
