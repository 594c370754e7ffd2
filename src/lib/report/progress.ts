/**
 * Live progress of one or more workers, on stderr: listr2 tasks (one per
 * worker, titles updated in place) on a terminal, a plain summary line every
 * few seconds otherwise, nothing at all under --json.
 */
import type {Writable} from 'node:stream'

import {DefaultRenderer, Listr, ListrLogger, ProcessOutput} from 'listr2'

import type {ProgressSnapshot} from '../load/send/sender.js'

import {int, msText, seconds} from '../format/units.js'

export type ProgressMode = 'tty' | 'plain' | 'none'

export interface ProgressView {
  update(worker: number, snapshot: ProgressSnapshot): void
  finish(worker: number, status: 'ok' | 'failed' | 'interrupted', detail: string): void
  /** A line of its own (plain mode) or above the tasks. */
  note(text: string): void
  stop(): Promise<void>
}

export interface ProgressOptions {
  mode: ProgressMode
  workers: number
  stream: Writable & {isTTY?: boolean}
  /** Plain mode: one summary line this often (ms). */
  intervalMs?: number
  label?: (worker: number) => string
}

/** The fraction done of a snapshot, by count or by time. */
export function fractionDone(s: ProgressSnapshot): number | undefined {
  if (s.plannedLogs) return Math.min(1, (s.logs.acked + s.logs.failed) / s.plannedLogs)
  if (s.plannedDurationMs) return Math.min(1, s.elapsedMs / s.plannedDurationMs)
  return undefined
}

function bar(fraction: number, width = 20): string {
  const full = Math.round(fraction * width)
  return '█'.repeat(full) + '░'.repeat(width - full)
}

/** One worker's line: "62% 155,000/250,000 logs · 38,000 logs/s · p99 12.1 ms". */
export function snapshotLine(s: ProgressSnapshot, withBar = false): string {
  const fraction = fractionDone(s)
  const parts: string[] = []
  if (fraction !== undefined) parts.push(`${withBar ? bar(fraction) + ' ' : ''}${Math.floor(fraction * 100)}%`)
  parts.push(s.plannedLogs ? `${int(s.logs.acked)}/${int(s.plannedLogs)} logs` : `${int(s.logs.acked)} logs`)
  parts.push(`${int(s.logsPerSecond)} logs/s`, `p99 ${msText(s.p99Ms)} ms`)
  if (s.retries > 0) parts.push(`${int(s.retries)} retries`)
  if (s.logs.failed > 0) parts.push(`${int(s.logs.failed)} failed`)
  return parts.join(' · ')
}

/** Several workers summed into one line. */
export function totalLine(snapshots: readonly (ProgressSnapshot | undefined)[]): string {
  const known = snapshots.filter((s): s is ProgressSnapshot => s !== undefined)
  const acked = known.reduce((sum, s) => sum + s.logs.acked, 0)
  const failed = known.reduce((sum, s) => sum + s.logs.failed, 0)
  const planned = known.every((s) => s.plannedLogs) && known.length === snapshots.length ? known.reduce((sum, s) => sum + (s.plannedLogs ?? 0), 0) : undefined
  const rate = known.reduce((sum, s) => sum + s.logsPerSecond, 0)
  const elapsed = known.reduce((max, s) => Math.max(max, s.elapsedMs), 0)
  const p99 = known.reduce((max, s) => Math.max(max, s.p99Ms), 0)
  const retries = known.reduce((sum, s) => sum + s.retries, 0)
  const parts: string[] = []
  parts.push(planned ? `${int(acked)}/${int(planned)} logs acknowledged (${Math.floor(((acked + failed) / planned) * 100)}%)` : `${int(acked)} logs acknowledged`)
  parts.push(`${int(rate)} logs/s`, `worst p99 ${msText(p99)} ms`)
  if (retries > 0) parts.push(`${int(retries)} retries`)
  if (failed > 0) parts.push(`${int(failed)} failed`)
  return `[${seconds(elapsed).padStart(8)}] ${parts.join(' · ')}`
}

export function createProgress(options: ProgressOptions): ProgressView {
  if (options.mode === 'none') return {finish() {}, note() {}, async stop() {}, update() {}}
  return options.mode === 'tty' ? ttyProgress(options) : plainProgress(options)
}

function plainProgress(options: ProgressOptions): ProgressView {
  const latest: (ProgressSnapshot | undefined)[] = Array.from({length: options.workers})
  const label = options.label ?? ((i: number) => (options.workers === 1 ? 'run' : `worker ${i + 1}`))
  let dirty = false
  const write = (line: string) => options.stream.write(line + '\n')
  const timer = setInterval(() => {
    if (!dirty) return
    dirty = false
    write(options.workers === 1 && latest[0] ? `[${seconds(latest[0].elapsedMs).padStart(8)}] ${snapshotLine(latest[0])}` : totalLine(latest))
  }, options.intervalMs ?? 2000)
  timer.unref?.()
  return {
    finish(worker, status, detail) {
      write(`${label(worker)} ${status === 'ok' ? 'finished' : status === 'failed' ? 'FAILED' : 'interrupted'}: ${detail}`)
    },
    note: write,
    async stop() {
      clearInterval(timer)
    },
    update(worker, snapshot) {
      latest[worker] = snapshot
      dirty = true
    },
  }
}

/**
 * listr2's default renderer, allowed whatever process.stdout is: the caller
 * chose a terminal stream (stderr), and stdout may well be a pipe.
 */
class StreamRenderer extends DefaultRenderer {
  static nonTTY = true
}

interface TaskHandle {
  setTitle(title: string): void
  done(status: 'ok' | 'failed' | 'interrupted', detail: string): void
}

function ttyProgress(options: ProgressOptions): ProgressView {
  const label = options.label ?? ((i: number) => (options.workers === 1 ? 'run' : `worker ${i + 1}`))
  const handles: TaskHandle[] = []
  const pending: {title?: string; finished?: {status: 'ok' | 'failed' | 'interrupted'; detail: string}}[] = Array.from({length: options.workers}, () => ({}))
  const finished: boolean[] = Array.from({length: options.workers}, () => false)
  const output = new ProcessOutput(options.stream as NodeJS.WriteStream, options.stream as NodeJS.WriteStream, {dump: [], leaveEmptyLine: false})
  const listr = new Listr(
    Array.from({length: options.workers}, (_, index) => ({
      task: (_ctx: unknown, task: {title: string; skip(message?: string): void}) =>
        new Promise<void>((resolve, reject) => {
          handles[index] = {
            done(status, detail) {
              task.title = `${label(index)}: ${detail}`
              if (status === 'ok') resolve()
              else if (status === 'interrupted') {
                task.skip(`${label(index)}: interrupted, ${detail}`)
                resolve()
              } else reject(new Error(`${label(index)}: ${detail}`))
            },
            setTitle(title) {
              task.title = `${label(index)}  ${title}`
            },
          }
          const early = pending[index]
          if (early.title) handles[index].setTitle(early.title)
          if (early.finished) handles[index].done(early.finished.status, early.finished.detail)
        }),
      title: `${label(index)}  starting`,
    })),
    {
      concurrent: true,
      exitOnError: false,
      // The stream was chosen by the caller (stderr on a terminal): do not fall back because stdout is a pipe.
      fallbackRendererCondition: false,
      registerSignalListeners: false,
      renderer: StreamRenderer,
      rendererOptions: {collapseErrors: false, logger: new ListrLogger({processOutput: output, useIcons: true})},
      silentRendererCondition: false,
    },
  )
  const running = listr.run().catch(() => {})
  return {
    finish(worker, status, detail) {
      if (finished[worker]) return
      finished[worker] = true
      if (handles[worker]) handles[worker].done(status, detail)
      else pending[worker].finished = {detail, status}
    },
    note(text) {
      options.stream.write(text + '\n')
    },
    async stop() {
      for (let i = 0; i < options.workers; i++) this.finish(i, 'interrupted', 'stopped')
      await running
    },
    update(worker, snapshot) {
      const title = snapshotLine(snapshot, true)
      if (handles[worker]) handles[worker].setTitle(title)
      else pending[worker].title = title
    },
  }
}
