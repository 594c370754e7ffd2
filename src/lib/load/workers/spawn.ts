/**
 * Starting worker processes. The default spawner runs `node bin/run.js run …`
 * with execa, each worker in its own process group so a Ctrl+C reaches only
 * the parent, which then stops every worker exactly once. Workers still alive
 * when the parent exits (however it exits) are killed.
 */
import type {Readable, Writable} from 'node:stream'

import {execa} from 'execa'

export interface WorkerExit {
  exitCode: number | null
  signal: string | null
}

export interface WorkerHandle {
  pid?: number
  stdout: Readable
  stderr: Readable
  stdin: Writable
  kill(signal: NodeJS.Signals): void
  exited: Promise<WorkerExit>
}

/** Start worker `index` with these `run` arguments and these variables added to its environment. */
export type Spawner = (args: string[], index: number, env?: Record<string, string>) => WorkerHandle

const alive = new Set<WorkerHandle>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const handle of alive) handle.kill('SIGKILL')
  })
}

/**
 * V8 flags for worker processes. A worker's live heap is about 15 MB whatever
 * the number of logs, but with the defaults of a large machine V8 lets the young
 * generation grow to 128 MB and old-space garbage pile up between major GCs, so
 * the peak RSS would creep up over a long run. A small young generation and an
 * old-space ceiling well above the live size keep it flat (and cost no
 * throughput: the garbage is collected sooner, not more often in total).
 */
export function workerNodeFlags(maxInFlight = 128): string[] {
  // Room for the per-request state of every batch that may be outstanding (open model).
  const oldSpaceMb = 256 + Math.ceil((Math.max(0, maxInFlight - 128) * 32) / 1024)
  return ['--max-semi-space-size=4', `--max-old-space-size=${oldSpaceMb}`]
}

export function nodeSpawner(options: {binPath: string; nodePath?: string; nodeFlags?: string[]; env?: Record<string, string>}): Spawner {
  installExitHook()
  return (args, _index, env) => {
    const child = execa(options.nodePath ?? process.execPath, [...(options.nodeFlags ?? []), options.binPath, ...args], {
      buffer: false,
      cleanup: false,
      detached: true,
      env: {NO_COLOR: '1', ...options.env, ...env},
      // parallel's own grace timer decides when a stopping worker is killed, not execa's 5 s default.
      forceKillAfterDelay: false,
      extendEnv: true,
      reject: false,
      stdin: 'pipe',
      stderr: 'pipe',
      stdout: 'pipe',
    })
    const handle: WorkerHandle = {
      exited: (async () => {
        const result = await child
        return {exitCode: result.exitCode ?? null, signal: result.signal ?? null}
      })().finally(() => alive.delete(handle)),
      kill(signal) {
        try {
          child.kill(signal)
        } catch {}
      },
      pid: child.pid,
      stderr: child.stderr,
      stdin: child.stdin,
      stdout: child.stdout,
    }
    // A worker that exits early closes its stdin: writing "go" then must not crash the parent.
    child.stdin.on('error', () => {})
    alive.add(handle)
    return handle
  }
}
