/**
 * The worker protocol: one JSON object a line on the worker's stdout
 * (`run --events`), read by `parallel`. Both sides use this module.
 *
 *   {"type":"start","v":1,"runId":…,"worker":{…},"pid":…,"plannedLogs":…}
 *   {"type":"ready","v":1,"worker":0}       (with --barrier: then waits for "go" on stdin)
 *   {"type":"progress","v":1,"worker":0,"elapsedMs":…,"logs":{…},…}
 *   {"type":"result","v":1,"result":{…RunResult with encoded histograms…}}
 *   {"type":"error","v":1,"error":{"kind":…,"message":…,"exitCode":…}}
 */
import type {RunResult} from '../result/types.js'
import type {ProgressSnapshot} from '../send/sender.js'
import type {WorkerSlot} from '../settings.js'

export const PROTOCOL_VERSION = 1

export interface StartEvent {
  type: 'start'
  v: number
  runId: string
  worker: WorkerSlot
  pid: number
  plannedLogs?: number
  plannedDurationMs?: number
  target: string
}

export interface ReadyEvent {
  type: 'ready'
  v: number
  worker: number
}

/** The line the parent writes on a worker's stdin to release the barrier. */
export const GO_LINE = 'go\n'

export interface ProgressEvent extends ProgressSnapshot {
  type: 'progress'
  v: number
  worker: number
}

export interface ResultEvent {
  type: 'result'
  v: number
  result: RunResult
}

export interface ErrorEvent {
  type: 'error'
  v: number
  error: {kind: string; message: string; exitCode: number; suggestion?: string}
}

export type WorkerEvent = StartEvent | ReadyEvent | ProgressEvent | ResultEvent | ErrorEvent

type Payload<E> = Omit<E, 'type' | 'v'>

export function encodeEvent<T extends WorkerEvent['type']>(type: T, payload: Payload<Extract<WorkerEvent, {type: T}>>): string {
  return JSON.stringify({type, v: PROTOCOL_VERSION, ...payload}) + '\n'
}

/**
 * Parse one line. Lines that are not events (blank, or anything a library
 * printed on stdout) give undefined; an event of a newer protocol is an error.
 */
export function parseEvent(line: string): WorkerEvent | undefined {
  const text = line.trim()
  if (!text.startsWith('{')) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }

  if (!value || typeof value !== 'object') return undefined
  const event = value as {type?: unknown; v?: unknown}
  if (typeof event.type !== 'string' || typeof event.v !== 'number') return undefined
  if (event.v > PROTOCOL_VERSION) throw new Error(`worker speaks protocol v${event.v}, this logbench reads v${PROTOCOL_VERSION}: use the same logbench for workers and parallel`)
  switch (event.type) {
    case 'start':
    case 'ready':
    case 'progress': {
      return value as WorkerEvent
    }

    case 'result': {
      const result = (value as ResultEvent).result
      if (!result || typeof result !== 'object' || result.kind !== 'run') return undefined
      return value as ResultEvent
    }

    case 'error': {
      const error = (value as ErrorEvent).error
      if (!error || typeof error.message !== 'string') return undefined
      return value as ErrorEvent
    }

    default: {
      return undefined
    }
  }
}

/** Split a stream of text chunks into events; keeps the unfinished last line. */
export class EventLineReader {
  private rest = ''

  push(chunk: string): WorkerEvent[] {
    const text = this.rest + chunk
    const lines = text.split('\n')
    this.rest = lines.pop() ?? ''
    const events: WorkerEvent[] = []
    for (const line of lines) {
      const event = parseEvent(line)
      if (event) events.push(event)
    }

    return events
  }

  /** The last line, when the stream ended without a newline. */
  end(): WorkerEvent[] {
    const event = this.rest ? parseEvent(this.rest) : undefined
    this.rest = ''
    return event ? [event] : []
  }
}
