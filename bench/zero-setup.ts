/**
 * The zero-setup run on the embedded default, as a user starts it: `logbench parallel` with no
 * target and no store flags, so it starts its own serve over the embedded engine, in a fresh
 * data directory each round. Prints, for each round, logs/s, p50/p99, the verification and the
 * verdict, then the median against the target.
 *
 *   npm run build && npx tsx bench/zero-setup.ts [--rounds 3] [--workers 4] [--logs-per-worker 250000]
 *                                               [--bin PATH (another build's bin/run.js)]
 */
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs, promisify} from 'node:util'

import type {AggregateResult} from '../src/lib/load/result/types.js'

import {target} from './lib/target.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: flags} = parseArgs({
  options: {
    bin: {type: 'string'},
    'logs-per-worker': {default: '250000', type: 'string'},
    rounds: {default: '3', type: 'string'},
    workers: {default: '4', type: 'string'},
  },
})
const bin = flags.bin ?? path.join(root, 'bin/run.js')
const int = (n: number) => Math.round(n).toLocaleString('en-US')

console.log(`logbench parallel --workers ${flags.workers} --logs-per-worker ${int(Number(flags['logs-per-worker']))}, embedded engine, ${os.cpus().length} CPU cores; ${bin}`)
const rates: number[] = []
let failed = false
for (let round = 1; round <= Number(flags.rounds); round++) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'logbench-zero-setup-'))
  try {
    // The bin script itself (its shebang's Node flags), as `npx logbench` runs it.
    const {stdout} = await promisify(execFile)(bin, ['parallel', '--workers', flags.workers!, '--logs-per-worker', flags['logs-per-worker']!, '--data-dir', path.join(dir, 'data'), '--json'], {
      cwd: dir,
      maxBuffer: 256 * 1024 * 1024,
    })
    const result = JSON.parse(stdout) as AggregateResult
    const v = result.verification
    const ok = Boolean(v?.ok) && v?.missing === 0 && result.workersFailed === 0
    failed ||= !ok
    rates.push(result.throughput.logsPerSecond)
    console.log(
      `round ${round}: ${int(result.throughput.logsPerSecond)} logs/s, p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms; ` +
        (v ? `${int(v.acked)} acknowledged, ${int(v.stored)} stored, ${int(v.missing)} missing` : 'not verified') +
        `; bottleneck: ${result.bottleneck?.kind ?? 'none'}`,
    )
  } finally {
    rmSync(dir, {force: true, recursive: true})
  }
}

const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]
console.log(`median ${int(median)} logs/s (${target('≥ 150,000 logs/s', median >= 150_000)})`)
process.exit(failed ? 1 : 0)
