/** Run the built CLI as a child process and read the one JSON document it prints (--json). */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {AggregateResult} from '../../src/lib/load/result/types.js'

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

function parallelArgs(load: {target: string; workers: string; logsPerWorker: string; batchSize: string; concurrency: string; clickhouseUrl: string; database: string}): string[] {
  return [
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
  ]
}

/**
 * The guide's parallel test: `logbench parallel` against `target`, verified in `database` of the
 * server at `clickhouseUrl`. `verify: false` leaves the verification out, so that what is
 * measured while it runs is the ingest alone; verify it afterwards with verifyResult.
 */
export function runParallel(load: Parameters<typeof parallelArgs>[0], options: {verify?: boolean} = {}): Promise<AggregateResult> {
  return runJson<AggregateResult>([bin, 'parallel', ...parallelArgs(load), ...(options.verify === false ? ['--no-verify'] : []), '--json'])
}

/**
 * Verify a run afterwards, as `logbench merge` does for results from several hosts: every
 * acknowledged log counted in the table, by batch.
 */
export async function verifyResult(result: AggregateResult, store: {clickhouseUrl: string; database: string}): Promise<AggregateResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'logbench-bench-result-'))
  const file = path.join(dir, 'result.json')
  writeFileSync(file, JSON.stringify(result))
  try {
    return await runJson<AggregateResult>([bin, 'merge', file, '--clickhouse-url', store.clickhouseUrl, '--database', store.database, '--json'])
  } finally {
    rmSync(dir, {force: true, recursive: true})
  }
}
