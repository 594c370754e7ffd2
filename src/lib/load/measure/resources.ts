/**
 * CPU and memory over time: of this process (a worker), sampled at each
 * interval boundary into its timeline; and of a serve, read from its
 * Prometheus `/metrics` (process_cpu_seconds_total, process_resident_memory_bytes).
 */
import {performance} from 'node:perf_hooks'

import type {Clock} from '../clock.js'

import {systemClock} from '../clock.js'

export interface ProcessProbe {
  /** CPU time used so far (user + system), ms. */
  cpuMs(): number
  /** Time the event loop has been busy so far, ms. */
  busyMs(): number
  /** Resident set size now, bytes. */
  rssBytes(): number
}

export const ownProcess: ProcessProbe = {
  busyMs: () => performance.eventLoopUtilization().active,
  cpuMs() {
    const usage = process.cpuUsage()
    return (usage.user + usage.system) / 1000
  },
  rssBytes: () => process.memoryUsage.rss(),
}

export interface ResourceSink {
  readonly intervalMs: number
  resources(wall: number, cpuMs: number, rssBytes: number, busyMs?: number): void
}

/**
 * Sample the process just after every interval boundary: the CPU used since
 * the last sample goes to the interval that just ended. stop() records the
 * last, partial interval.
 */
export function sampleProcess(sink: ResourceSink, options: {probe?: ProcessProbe; clock?: Pick<Clock, 'wallNow'>} = {}): {stop(): void} {
  const probe = options.probe ?? ownProcess
  const clock = options.clock ?? systemClock
  const {intervalMs} = sink
  let lastCpu = probe.cpuMs()
  let lastBusy = probe.busyMs()
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const take = (wall: number) => {
    const cpu = probe.cpuMs()
    const busy = probe.busyMs()
    sink.resources(wall, Math.max(0, cpu - lastCpu), probe.rssBytes(), Math.max(0, busy - lastBusy))
    lastCpu = cpu
    lastBusy = busy
  }

  const schedule = () => {
    const now = clock.wallNow()
    const next = (Math.floor(now / intervalMs) + 1) * intervalMs
    timer = setTimeout(() => {
      if (stopped) return
      // Attribute to the interval that just ended.
      take(next - 1)
      schedule()
    }, next - now + 1)
    timer.unref?.()
  }

  schedule()
  return {
    stop() {
      if (stopped) return
      stopped = true
      if (timer) clearTimeout(timer)
      take(clock.wallNow())
    },
  }
}

export interface ResourceSample {
  /** Start of the interval, epoch ms. */
  at: number
  /** CPU used in the interval, ms. */
  cpuMs: number
  rssBytes: number
}

/** Samples of one process at a fixed interval. */
export interface ResourceSeries {
  intervalMs: number
  samples: ResourceSample[]
}

/** Samples kept at most; past that the interval doubles (CPU adds up, RSS keeps the larger). */
export const MAX_SAMPLES = 600

export function boundSamples(series: ResourceSeries, max = MAX_SAMPLES): ResourceSeries {
  let {intervalMs, samples} = series
  const span = (width: number) => (samples.length === 0 ? 0 : Math.floor(samples.at(-1)!.at / width) - Math.floor(samples[0].at / width) + 1)
  while (span(intervalMs) > max) intervalMs *= 2
  if (intervalMs === series.intervalMs) return series
  const byAt = new Map<number, ResourceSample>()
  for (const s of samples) {
    const at = Math.floor(s.at / intervalMs) * intervalMs
    const into = byAt.get(at)
    if (into) {
      into.cpuMs = Math.round((into.cpuMs + s.cpuMs) * 1000) / 1000
      into.rssBytes = Math.max(into.rssBytes, s.rssBytes)
    } else byAt.set(at, {...s, at})
  }

  samples = [...byAt.values()].sort((a, b) => a.at - b.at)
  return {intervalMs, samples}
}

/** The two process figures of a Prometheus text exposition, when present. */
export function parseProcessMetrics(text: string): {cpuSeconds?: number; rssBytes?: number} {
  const value = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)`, 'm').exec(text)
    return match ? Number(match[1]) : undefined
  }

  return {cpuSeconds: value('process_cpu_seconds_total'), rssBytes: value('process_resident_memory_bytes')}
}

/**
 * Read a serve's /metrics at each interval boundary. Samples hold the CPU used
 * since the previous one; a failed read skips the interval.
 */
export function sampleMetricsEndpoint(url: URL, intervalMs: number, options: {fetch?: typeof fetch} = {}): {stop(): Promise<ResourceSeries>} {
  const get = options.fetch ?? fetch
  const samples: ResourceSample[] = []
  let last: number | undefined
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let pending: Promise<void> = Promise.resolve()
  const read = async (at: number) => {
    try {
      const response = await get(url, {signal: AbortSignal.timeout(Math.max(500, intervalMs))})
      const {cpuSeconds, rssBytes} = parseProcessMetrics(await response.text())
      if (cpuSeconds === undefined) return
      if (last !== undefined) samples.push({at, cpuMs: Math.max(0, Math.round((cpuSeconds - last) * 1_000_000) / 1000), rssBytes: rssBytes ?? 0})
      last = cpuSeconds
    } catch {
      // The serve is busy or gone: this interval has no sample.
    }
  }

  const schedule = () => {
    const now = Date.now()
    const next = (Math.floor(now / intervalMs) + 1) * intervalMs
    timer = setTimeout(() => {
      if (stopped) return
      pending = read(next - intervalMs)
      schedule()
    }, next - now + 1)
    timer.unref?.()
  }

  pending = read(Math.floor(Date.now() / intervalMs) * intervalMs - intervalMs)
  schedule()
  return {
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await pending
      // The last, partial interval.
      await read(Math.floor(Date.now() / intervalMs) * intervalMs)
      return boundSamples({intervalMs, samples})
    },
  }
}
