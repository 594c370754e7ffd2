/**
 * CPU and memory over time: of this process (a worker), sampled at each
 * interval boundary into its timeline; and of a serve, read from its
 * Prometheus `/metrics` (process_cpu_seconds_total, process_resident_memory_bytes).
 */
import {performance} from 'node:perf_hooks'

import type {Clock} from '../../clock.js'

import {systemClock} from '../../clock.js'
import {coarsenSamples, MAX_INTERVALS, onIntervalBoundaries} from './intervals.js'

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
  let stopped = false
  const take = (wall: number) => {
    const cpu = probe.cpuMs()
    const busy = probe.busyMs()
    sink.resources(wall, Math.max(0, cpu - lastCpu), probe.rssBytes(), Math.max(0, busy - lastBusy))
    lastCpu = cpu
    lastBusy = busy
  }

  // Attributed to the interval that just ended.
  const ticker = onIntervalBoundaries(intervalMs, (boundary) => take(boundary - 1), () => clock.wallNow())
  return {
    stop() {
      if (stopped) return
      stopped = true
      ticker.stop()
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

/** Fold one sample into another of the same wider interval: CPU adds up, RSS keeps the larger. */
function addResourceSample(into: ResourceSample, s: ResourceSample): void {
  into.cpuMs = Math.round((into.cpuMs + s.cpuMs) * 1000) / 1000
  into.rssBytes = Math.max(into.rssBytes, s.rssBytes)
}

/** The series kept to at most MAX_INTERVALS samples: past that the interval doubles. */
export function boundSamples(series: ResourceSeries, max = MAX_INTERVALS): ResourceSeries {
  const kept = coarsenSamples(series.samples, series.intervalMs, addResourceSample, max)
  return kept.intervalMs === series.intervalMs ? series : kept
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

  pending = read(Math.floor(Date.now() / intervalMs) * intervalMs - intervalMs)
  const ticker = onIntervalBoundaries(intervalMs, (boundary) => {
    pending = read(boundary - intervalMs)
  })
  return {
    async stop() {
      ticker.stop()
      await pending
      // The last, partial interval.
      await read(Math.floor(Date.now() / intervalMs) * intervalMs)
      return boundSamples({intervalMs, samples})
    },
  }
}
