/**
 * The worker side of the start barrier: after announcing it is ready, a worker
 * waits for the parent's "go" line on stdin. End of input or an abort means
 * the parent gave up: do not start.
 */
import type {Readable} from 'node:stream'

import {GO_LINE} from './events.js'

export function waitForGo(input: Readable, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    let text = ''
    const done = (go: boolean) => {
      input.off('data', onData)
      input.off('end', onEnd)
      input.off('close', onEnd)
      signal?.removeEventListener('abort', onAbort)
      input.pause()
      resolve(go)
    }

    const onData = (chunk: Buffer | string) => {
      text += chunk.toString()
      if (text.includes(GO_LINE.trim())) done(true)
    }

    const onEnd = () => done(false)
    const onAbort = () => done(false)
    if (signal?.aborted) {
      resolve(false)
      return
    }

    input.on('data', onData)
    input.once('end', onEnd)
    input.once('close', onEnd)
    signal?.addEventListener('abort', onAbort, {once: true})
    input.resume()
  })
}

/**
 * After "go" the parent keeps the worker's stdin open; its end means the parent
 * is gone (killed, even with SIGKILL), so the worker should stop too.
 */
export function onParentGone(input: Readable, gone: () => void): void {
  input.once('end', gone)
  input.once('close', gone)
  input.on('data', () => {})
  input.resume()
  // Watching must not keep the worker alive once its run is over.
  ;(input as Readable & {unref?: () => void}).unref?.()
}
