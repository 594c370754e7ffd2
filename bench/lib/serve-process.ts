/** serve started as a user starts it: the bin script (and its shebang's Node flags), in a process of its own. */
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {IngestStats} from '../../src/lib/ingest/index.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface ServeProcess {
  url: string
  child: ChildProcess
  /** SIGTERM, then what serve printed on exit (--json: its stats). */
  stop(): Promise<{code: number | null; stats?: IngestStats}>
}

/** The Node flags of a bin script's shebang (`#!/usr/bin/env -S node FLAGS`). */
export function shebangFlags(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0]
  return /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(first)?.[1].trim().split(/\s+/).filter(Boolean) ?? []
}

/**
 * `logbench serve --port 0 --json ARGS`. With `nodeArgs` (a profiler's, say) it runs under this
 * Node with the bin script's shebang flags and then those; `bin` runs another build's bin/run.js.
 */
export async function startServeProcess(args: string[], options: {nodeArgs?: string[]; bin?: string} = {}): Promise<ServeProcess> {
  const bin = options.bin ?? path.join(root, 'bin/run.js')
  const argv = ['serve', '--port', '0', '--json', ...args]
  const child = options.nodeArgs?.length ? spawn(process.execPath, [...shebangFlags(bin), ...options.nodeArgs, bin, ...argv], {stdio: ['ignore', 'pipe', 'pipe']}) : spawn(bin, argv, {stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  // --json: the listening line and serve's notes go to stderr.
  const url = await new Promise<string>((resolve, reject) => {
    let listening = false
    child.stderr!.on('data', (chunk) => {
      process.stderr.write(chunk)
      if (listening) return
      stderr += chunk
      const match = /listening on (http:\/\/\S+)/.exec(stderr)
      if (match) {
        listening = true
        resolve(match[1])
      }
    })
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening:\n${stderr}`)))
  })
  return {
    child,
    async stop() {
      const code = child.exitCode ?? (await new Promise<number | null>((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGTERM')
      }))
      const printed = stdout.trim()
      return {code, stats: printed.startsWith('{') ? (JSON.parse(printed) as {stats: IngestStats}).stats : undefined}
    },
    url,
  }
}
