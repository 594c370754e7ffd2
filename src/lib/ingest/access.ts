/**
 * Who may use serve: the bearer token, compared in constant time, and the rule
 * that serve reachable from other machines has one. On an address other than
 * loopback, serve without a token refuses to start unless told it is meant
 * (as Redis's protected mode): anyone who could reach it could write logs and
 * read the reports.
 */
import {createHash, timingSafeEqual} from 'node:crypto'
import {lookup} from 'node:dns/promises'
import net from 'node:net'

import {usageError} from '../errors.js'

/** Constant-time comparison of a presented bearer token with the configured one. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? ''
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b) && presented.length > 0
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopbackAddress(address: string): boolean {
  const text = address.replace(/^\[|\]$/g, '').toLowerCase()
  if (net.isIPv4(text)) return text.startsWith('127.')
  if (!net.isIPv6(text)) return false
  const mapped = /^(?:0*:)*:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (mapped) return mapped[1].startsWith('127.')
  // ::1 in any of its spellings (0:0:0:0:0:0:0:1, ::0:1, ...).
  const [left, right] = text.split('::').map((part) => part.split(':').filter(Boolean))
  const words = right === undefined ? left : [...left, ...Array.from({length: 8 - left.length - right.length}, () => '0'), ...right]
  return words.length === 8 && words.slice(0, 7).every((word) => Number.parseInt(word, 16) === 0) && Number.parseInt(words[7], 16) === 1
}

/** Whether every address `host` names is loopback (a name is resolved; one that does not resolve is not). */
export async function isLoopbackHost(host: string): Promise<boolean> {
  if (net.isIP(host.replace(/^\[|\]$/g, ''))) return isLoopbackAddress(host)
  try {
    const addresses = await lookup(host, {all: true})
    return addresses.length > 0 && addresses.every((entry) => isLoopbackAddress(entry.address))
  } catch {
    return false
  }
}

/**
 * Refuse (a usage error, exit 2) to listen on `host` without a token when it is not loopback,
 * unless `open` says it is meant. Answers whether serve will be open to other machines.
 */
export async function checkAccess(options: {host: string; token?: string; open?: boolean}): Promise<{exposed: boolean}> {
  const {host, token} = options
  if (token !== undefined || (await isLoopbackHost(host))) return {exposed: false}
  if (options.open) return {exposed: true}
  const where = host === '0.0.0.0' || host === '::' || host === '[::]' ? `${host} (every interface)` : host
  throw usageError(
    `serve would listen on ${where} without a token: anyone who can reach it could write logs and read the reports`,
    'set a token with --token or LOGBENCH_TOKEN (clients send "Authorization: Bearer <token>"), or pass --no-auth to serve it open on purpose',
  )
}
