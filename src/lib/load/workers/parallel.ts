/**
 * `parallel`: N worker processes, each `run --events --barrier --worker` with
 * its settings from the parent, started together once all are ready, read as
 * NDJSON events, and stopped once each on abort. Returns one report per
 * worker; the aggregate is built by result/aggregate.ts.
 */
import type {WorkerEvent} from './events.js'
import type {RunResult, WorkerReport, WorkerStatus} from '../result/types.js'
import type {LoadSettings} from '../settings.js'
import type {Spawner, WorkerExit, WorkerHandle} from './spawn.js'

import {WORKER_SETTINGS_ENV} from '../../config.js'
import {workerReport} from '../result/aggregate.js'
import {encodeWorkerSettings} from '../settings.js'
import {EventLineReader, GO_LINE} from './events.js'

/** How worker `index` is started: `run` as a worker, its settings in its environment (never in its arguments, which any user can read). */
export function workerLaunch(settings: LoadSettings): {args: string[]; env: Record<string, string>} {
  return {args: ['run', '--events', '--barrier', '--worker'], env: {[WORKER_SETTINGS_ENV]: encodeWorkerSettings(settings)}}
}

export interface ParallelOptions {
  /** The settings of each worker (settingsOfWorkers). */
  settings: LoadSettings[]
  spawn: Spawner
  signal?: AbortSignal
  /** After an abort, how long workers get to report before SIGKILL (ms). */
  graceMs?: number
  /** How long to wait for every worker to be ready before releasing those that are (ms). */
  readyTimeoutMs?: number
  onEvent?: (worker: number, event: WorkerEvent) => void
  /** A worker was started (its pid) / ended (its report). */
  onStart?: (worker: number, pid: number | undefined) => void
  onExit?: (worker: number, report: WorkerReport) => void
}

export interface ParallelOutcome {
  workers: WorkerReport[]
  interrupted: boolean
  /** From the release of the barrier to the last worker's exit (ms). */
  wallMs: number
}

interface Slot {
  index: number
  handle: WorkerHandle
  ready: boolean
  exited: boolean
  result?: RunResult
  error?: string
  errorExit?: number
  stderr: string
}

const STDERR_TAIL = 4000

export async function runParallel(options: ParallelOptions): Promise<ParallelOutcome> {
  const workers = options.settings.length
  const graceMs = options.graceMs ?? 15_000
  const slots: Slot[] = []
  let interrupted = false
  let released = false
  let releasedAt = performance.now()
  let resolveAllReady!: () => void
  const allReady = new Promise<void>((resolve) => (resolveAllReady = resolve))
  const checkReady = () => {
    if (slots.length === workers && slots.every((slot) => slot.ready || slot.exited)) resolveAllReady()
  }

  const stopAll = () => {
    if (interrupted) return
    interrupted = true
    for (const slot of slots) {
      if (slot.exited) continue
      slot.handle.kill('SIGTERM')
      const timer = setTimeout(() => slot.handle.kill('SIGKILL'), graceMs)
      timer.unref?.()
      void slot.handle.exited.finally(() => clearTimeout(timer))
    }

    resolveAllReady()
  }

  if (options.signal?.aborted) interrupted = true
  options.signal?.addEventListener('abort', stopAll, {once: true})

  const finished: Promise<WorkerReport>[] = []
  try {
    for (let index = 0; index < workers && !interrupted; index++) {
      const launch = workerLaunch(options.settings[index])
      const handle = options.spawn(launch.args, index, launch.env)
      const slot: Slot = {exited: false, handle, index, ready: false, stderr: ''}
      slots.push(slot)
      options.onStart?.(index, handle.pid)
      const reader = new EventLineReader()
      const onEvent = (event: WorkerEvent) => {
        switch (event.type) {
          case 'ready': {
            slot.ready = true
            checkReady()
            break
          }

          case 'result': {
            slot.result = event.result
            break
          }

          case 'error': {
            slot.error = event.error.message
            slot.errorExit = event.error.exitCode
            break
          }

          default:
        }

        options.onEvent?.(index, event)
      }

      handle.stdout.setEncoding('utf8')
      handle.stdout.on('data', (chunk: string) => {
        for (const event of reader.push(chunk)) onEvent(event)
      })
      handle.stderr.setEncoding('utf8')
      handle.stderr.on('data', (chunk: string) => {
        slot.stderr = (slot.stderr + chunk).slice(-STDERR_TAIL)
      })
      const stdoutDone = new Promise<void>((resolve) => {
        handle.stdout.once('end', resolve)
        handle.stdout.once('close', resolve)
      })
      finished.push(
        (async () => {
          const exit = await handle.exited
          await stdoutDone
          for (const event of reader.end()) onEvent(event)
          slot.exited = true
          checkReady()
          const report = describe(slot, exit, interrupted)
          options.onExit?.(index, report)
          return report
        })(),
      )
    }

    checkReady()
    if (!interrupted) {
      const timeout = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.readyTimeoutMs ?? 120_000)
        timer.unref?.()
        void allReady.then(() => clearTimeout(timer))
      })
      await Promise.race([allReady, timeout])
    }

    released = true
    releasedAt = performance.now()
    for (const slot of slots) {
      // Workers keep their stdin open while this process lives: its end tells them we are gone.
      // Ending it before "go" tells a waiting worker not to start.
      if (interrupted) slot.handle.stdin.end()
      else if (!slot.exited) slot.handle.stdin.write(GO_LINE)
    }

    const reports = await Promise.all(finished)
    return {interrupted, wallMs: released ? performance.now() - releasedAt : 0, workers: reports}
  } finally {
    for (const slot of slots) slot.handle.stdin.end()
    options.signal?.removeEventListener('abort', stopAll)
    // Nothing outlives the orchestrator.
    for (const slot of slots) if (!slot.exited) slot.handle.kill('SIGKILL')
  }
}

function describe(slot: Slot, exit: WorkerExit, interrupted: boolean): WorkerReport {
  const lastLine = slot.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1)
  let status: WorkerStatus
  let error: string | undefined
  if (slot.result && (exit.exitCode === 0 || exit.exitCode === 4)) {
    status = slot.result.interrupted ? 'interrupted' : 'ok'
  } else if (slot.result && (exit.exitCode === 130 || interrupted)) {
    status = 'interrupted'
  } else if (interrupted && !slot.ready) {
    status = 'interrupted'
    error = 'stopped before it started sending'
  } else {
    status = 'failed'
    const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode}`
    const why = slot.error ?? lastLine
    error = why ? `${how}: ${why}` : how
    if (!slot.result) error += ' before reporting a result'
  }

  return workerReport(slot.index, slot.result, {error, exitCode: exit.exitCode, pid: slot.handle.pid, signal: exit.signal, status})
}
