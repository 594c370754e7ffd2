/** Run the built CLI as a child process and read the one JSON document it prints (--json). */
import {spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {AggregateResult} from '../../src/lib/load/result.js'

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/run.js')

export function runJson<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'inherit']})
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      try {
        const result = JSON.parse(stdout) as T
        if (code !== 0) process.stderr.write(`logbench exited with code ${code}\n`)
        resolve(result)
      } catch {
        reject(new Error(`logbench exited with code ${code} without a JSON result:\n${stdout.slice(0, 2000)}`))
      }
    })
  })
}

/** The guide's parallel test: `logbench parallel` against `target`, verified in `database` of the server at `clickhouseUrl`. */
export function runParallel(load: {target: string; workers: string; logsPerWorker: string; batchSize: string; concurrency: string; clickhouseUrl: string; database: string}): Promise<AggregateResult> {
  return runJson<AggregateResult>([
    bin,
    'parallel',
    '--target',
    load.target,
    '--workers',
    load.workers,
    '--logs-per-worker',
    load.logsPerWorker,
    '--batch-size',
    load.batchSize,
    '--concurrency',
    load.concurrency,
    '--clickhouse-url',
    load.clickhouseUrl,
    '--database',
    load.database,
    '--json',
  ])
}
