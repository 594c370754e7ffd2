/**
 * Memory of one worker does not grow with the number of logs: `logbench run`,
 * started as `parallel` starts its workers, against a sink that counts and
 * discards, for a small and a 10x larger count; prints each worker's peak RSS, CPU a log and throughput, and the
 * difference of the peaks (the check: under 20 MB).
 *
 *   npx tsx bench/worker-rss.ts                       # 2,000,000 vs 20,000,000
 *   npx tsx bench/worker-rss.ts --small 200000 --large 2000000
 */
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import type {RunResult} from '../src/lib/load/result/types.js'

import {workerNodeFlags} from '../src/lib/load/workers/spawn.js'

import {startSink} from '../test/lib/load/sink.js'
import {runJson} from './lib/cli.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: flags} = parseArgs({
  options: {
    concurrency: {default: '4', type: 'string'},
    large: {default: '20000000', type: 'string'},
    small: {default: '2000000', type: 'string'},
  },
})
const int = (n: number) => Math.round(n).toLocaleString('en-US')
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

function run(target: string, logs: number): Promise<RunResult> {
  // Started the way parallel starts its workers.
  const args = [...workerNodeFlags(Number(flags.concurrency)), path.join(root, 'bin', 'run.js'), 'run', '--target', target, '--logs', String(logs), '--concurrency', flags.concurrency!, '--json']
  return runJson<RunResult>(args)
}

const sink = await startSink({discard: true})
try {
  const results: RunResult[] = []
  for (const logs of [Number(flags.small), Number(flags.large)]) {
    const result = await run(sink.url, logs)
    results.push(result)
    process.stdout.write(
      `${int(logs).padStart(12)} logs: peak RSS ${mib(result.resources.peakRssBytes)}, ` +
        `${result.resources.cpuPerLogUs.toFixed(2)} µs CPU a log, ${int(result.throughput.logsPerSecond)} logs/s, ` +
        `${int(result.logs.acked)} acknowledged\n`,
    )
  }

  const difference = results[1].resources.peakRssBytes - results[0].resources.peakRssBytes
  const ok = Math.abs(difference) < 20 * 1024 * 1024
  process.stdout.write(`peak RSS difference: ${mib(difference)} (${ok ? 'under' : 'NOT under'} 20 MiB)\n`)
  if (!ok) process.exitCode = 1
} finally {
  await sink.stop()
}
