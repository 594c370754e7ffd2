/**
 * The worker's half of the worker protocol (events.ts): a `run --events`
 * process announces itself, waits at the barrier for "go", reports progress
 * and its result, or the error it ended with, one NDJSON line each on stdout.
 * `parallel` reads them with EventLineReader.
 */
import type {Readable, Writable} from 'node:stream'

import type {RunResult} from '../result/types.js'
import type {ProgressSnapshot} from '../send/sender.js'
import type {LoadSettings} from '../settings.js'

import {onParentGone, waitForGo} from './barrier.js'
import {encodeEvent} from './events.js'

export interface WorkerEmitter {
  /** Before sending: the start event, and with a barrier the ready event and the wait for "go"; false when the parent gave up. */
  beforeSend(target: URL): Promise<boolean>
  progress(snapshot: ProgressSnapshot): void
  result(result: RunResult): void
  /** The error the worker ends with (not for an interruption). */
  error(error: Error & {exitCode?: number; kind?: string; suggestion?: string}): void
}

export function workerEmitter(options: {
  settings: LoadSettings
  stdout: Writable
  stdin: Readable
  /** Wait for "go" on stdin after the ready event. */
  barrier: boolean
  signal: AbortSignal
  /** The parent went away after "go": stop. */
  onParentGone: () => void
  pid: number
}): WorkerEmitter {
  const {settings, stdout} = options
  const emit = (line: string) => stdout.write(line)
  const {worker} = settings
  return {
    async beforeSend(target) {
      emit(encodeEvent('start', {pid: options.pid, plannedDurationMs: settings.durationMs, plannedLogs: settings.logs, runId: settings.runId, target: target.href, worker}))
      if (!options.barrier) return true
      emit(encodeEvent('ready', {worker: worker.index}))
      const go = await waitForGo(options.stdin, options.signal)
      if (go) {
        onParentGone(options.stdin, options.onParentGone)
        // Nobody reads our events any more: writing them must not crash the worker.
        stdout.on('error', () => {})
      }

      return go
    },
    error(error) {
      if (error.name === 'AbortError') return
      emit(encodeEvent('error', {error: {exitCode: error.exitCode ?? 1, kind: error.kind ?? 'internal', message: error.message, suggestion: error.suggestion}}))
    },
    progress(snapshot) {
      emit(encodeEvent('progress', {...snapshot, worker: worker.index}))
    },
    result(result) {
      emit(encodeEvent('result', {result}))
    },
  }
}
