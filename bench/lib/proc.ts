/** CPU time and peak memory of a process, from /proc (Linux). */
import {readFileSync} from 'node:fs'

const TICKS_PER_SECOND = 100

/** User and system CPU seconds a process has used so far. */
export function cpuTimes(pid: number): {user: number; system: number} {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {system: Number(fields[12]) / TICKS_PER_SECOND, user: Number(fields[11]) / TICKS_PER_SECOND}
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const {system, user} = cpuTimes(pid)
  return user + system
}

/** Peak resident set size (VmHWM) in bytes. */
export function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1]
  return Number(kb) * 1024
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024
}
