/**
 * What went wrong with a request, as a class (`timeout`, `reset`, `refused`,
 * `dns`, `aborted`, `http_<status>`, `other`), and which classes are worth
 * another try or mean the target is not there at all.
 */
import {systemCodeOf} from '../../errors.js'

/** Classes worth another try: overload and transient network trouble. */
export const RETRYABLE = new Set(['http_429', 'http_502', 'http_503', 'http_504', 'timeout', 'reset', 'refused'])

/** Classes that mean the target is not there at all. */
export const UNREACHABLE = new Set(['refused', 'dns'])

/**
 * Error classes: `timeout`, `reset`, `refused`, `dns`, `aborted`, `partial`
 * (a 2xx that acknowledged fewer logs than sent), `http_<status>`, `other`.
 */
export type ErrorClass = string

/** The class of a failed request from its HTTP status, or from the error thrown. */
export function classifyError(error: unknown): ErrorClass {
  const status = (error as {statusCode?: unknown})?.statusCode
  if (typeof status === 'number') return `http_${status}`
  const code = (error as {code?: unknown})?.code
  const sys = systemCodeOf(error)
  const name = (error as {name?: unknown})?.name
  const codes = [code, sys].filter((value): value is string => typeof value === 'string')
  if (codes.some((c) => /^(UND_ERR_(HEADERS|BODY|CONNECT)_TIMEOUT|ETIMEDOUT|ESOCKETTIMEDOUT)$/.test(c))) return 'timeout'
  if (codes.some((c) => /^(ECONNREFUSED)$/.test(c))) return 'refused'
  if (codes.some((c) => /^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED|ECONNABORTED)$/.test(c))) return 'reset'
  if (codes.some((c) => /^(ENOTFOUND|EAI_AGAIN)$/.test(c))) return 'dns'
  if (name === 'AbortError' || codes.includes('UND_ERR_ABORTED') || codes.includes('ABORT_ERR')) return 'aborted'
  return 'other'
}

