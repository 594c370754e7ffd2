/** Running the built CLI with a handle on the process, for signal and crash tests. */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'

import {binPath, type CliResult, repoRoot} from '../../helpers.js'

export interface RunningCli {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves when stderr (or stdout) contains the text. */
  waitFor(text: string | RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<void>
  done: Promise<CliResult>
}

export function startCli(args: string[], options: {env?: NodeJS.ProcessEnv; timeoutMs?: number} = {}): RunningCli {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: repoRoot,
    env: {...process.env, NO_COLOR: '1', ...options.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const waiters: (() => void)[] = []
  child.stdout!.on('data', (chunk) => {
    stdout += chunk
    for (const waiter of waiters) waiter()
  })
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
    for (const waiter of waiters) waiter()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      for (const waiter of waiters) waiter()
      resolve({code, stderr, stdout})
    })
  })
  return {
    child,
    done,
    stderr: () => stderr,
    stdout: () => stdout,
    waitFor(text, stream = 'stderr', timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${text} on ${stream}; stderr so far:\n${stderr}`)), timeoutMs)
        const check = () => {
          const haystack = stream === 'stderr' ? stderr : stdout
          if (typeof text === 'string' ? haystack.includes(text) : text.test(haystack)) {
            clearTimeout(deadline)
            resolve()
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(deadline)
            reject(new Error(`process ended before ${text} appeared on ${stream}; stderr:\n${stderr}`))
          }
        }

        waiters.push(check)
        check()
      })
    },
  }
}

/** The direct children of a process (Linux `ps`). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], {encoding: 'utf8'})
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0)
  } catch {
    return []
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
