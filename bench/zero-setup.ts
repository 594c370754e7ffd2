/**
 * The zero-setup run on the embedded default, as a user starts it, against the embedded
 * engine's own ceiling measured in the same run.
 *
 * Each round first measures the ceiling (bench/lib/engine-ceiling.ts, a process of its own:
 * rows like the generator's written straight into the engine as RowBinary from a file, in
 * 100,000-row INSERTs), then runs `logbench parallel --workers 4 --logs-per-worker 250000`
 * with no target and no store flags, so it starts its own serve over the embedded engine, in
 * a fresh data directory. It prints, for each round, logs/s, p50/p99, the verification, the
 * peak RSS of the process holding serve and the engine during the load (serve's own samples
 * from its /metrics, the figure with the 1 GiB target) and over its whole life (the run's
 * verification included, read from /proc), the ceiling and the ratio of the two; then the
 * medians against the targets.
 *
 * --compare PATH runs rounds of another build's bin/run.js (A) and of --bin (B, default this
 * checkout) alternately, A first, and prints each build's medians.
 *
 *   npm run build && npx tsx bench/zero-setup.ts [--rounds 3] [--workers 4] [--logs-per-worker 250000]
 *     [--bin PATH] [--compare PATH] [--ceiling-rows 1000000] [--ceiling-insert-rows 100000]
 */
import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import type {AggregateResult} from '../src/lib/load/result/types.js'
import type {EngineCeiling} from './lib/engine-ceiling.js'

import {target} from './lib/target.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: flags} = parseArgs({
  options: {
    bin: {type: 'string'},
    'ceiling-insert-rows': {default: '100000', type: 'string'},
    'ceiling-rows': {default: '1000000', type: 'string'},
    compare: {type: 'string'},
    'logs-per-worker': {default: '250000', type: 'string'},
    rounds: {default: '3', type: 'string'},
    workers: {default: '4', type: 'string'},
  },
})
const bin = flags.bin ?? path.join(root, 'bin/run.js')
const int = (n: number) => Math.round(n).toLocaleString('en-US')
const mib = (bytes: number) => `${int(bytes / 2 ** 20)} MiB`
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const RATIO_TARGET = 0.4
const RSS_TARGET = 2 ** 30

function run(file: string, args: string[], options: {cwd?: string; onStart?: (pid: number) => void} = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, {cwd: options.cwd, maxBuffer: 256 * 1024 * 1024}, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${error.message}\n${stderr}`))
      else resolve(stdout)
    })
    if (child.pid !== undefined) options.onStart?.(child.pid)
  })
}

/** The engine's ceiling, measured in a process of its own (the tsx loader this bench runs under). */
async function ceiling(): Promise<EngineCeiling> {
  const script = path.join(root, 'bench/lib/engine-ceiling.ts')
  const args = [...process.execArgv, script, '--rows', flags['ceiling-rows']!, '--insert-rows', flags['ceiling-insert-rows']!]
  return JSON.parse(await run(process.execPath, args)) as EngineCeiling
}

/** The peak RSS (VmHWM) of a running process, read until it exits (Linux). */
function watchPeakRss(pid: number): () => number | undefined {
  const status = `/proc/${pid}/status`
  if (!existsSync(status)) return () => undefined
  let peak = 0
  const read = () => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'))?.[1]
      if (kb) peak = Math.max(peak, Number(kb) * 1024)
    } catch {
      // exited
    }
  }

  const timer = setInterval(read, 200)
  return () => {
    clearInterval(timer)
    return peak || undefined
  }
}

interface Round {
  logsPerSecond: number
  ceiling: number
  ratio: number
  /** During the load (serve's /metrics samples). */
  loadRss?: number
  /** Over the process's life, its verification included (VmHWM). */
  peakRss?: number
  ok: boolean
}

async function round(label: string, binary: string, n: number): Promise<Round> {
  const engine = await ceiling()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'logbench-zero-setup-'))
  let stopWatch: () => number | undefined = () => undefined
  try {
    // The bin script itself (its shebang's Node flags), as `npx logbench` runs it.
    const stdout = await run(binary, ['parallel', '--workers', flags.workers!, '--logs-per-worker', flags['logs-per-worker']!, '--data-dir', path.join(dir, 'data'), '--json'], {
      cwd: dir,
      onStart(pid) {
        stopWatch = watchPeakRss(pid)
      },
    })
    const peakRss = stopWatch()
    const result = JSON.parse(stdout) as AggregateResult
    const v = result.verification
    const ok = Boolean(v?.ok) && v?.missing === 0 && result.workersFailed === 0
    const {logsPerSecond} = result.throughput
    const ratio = logsPerSecond / engine.rowsPerSecond
    const samples = result.serveResources?.samples ?? []
    const loadRss = samples.length > 0 ? Math.max(...samples.map((sample) => sample.rssBytes)) : undefined
    console.log(
      `${label}round ${n}: ${int(logsPerSecond)} logs/s, p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms; ` +
        (v ? `${int(v.acked)} acknowledged, ${int(v.stored)} stored, ${int(v.missing)} missing` : 'not verified') +
        `; serve and engine peak RSS ${loadRss === undefined ? 'n/a' : mib(loadRss)} during the load, ${peakRss === undefined ? 'n/a' : mib(peakRss)} with the verification` +
        `; engine ceiling ${int(engine.rowsPerSecond)} rows/s (${engine.cpuMicrosPerRow.toFixed(2)} µs CPU a row); ratio ${ratio.toFixed(3)}`,
    )
    return {ceiling: engine.rowsPerSecond, loadRss, logsPerSecond, ok, peakRss, ratio}
  } finally {
    stopWatch()
    rmSync(dir, {force: true, recursive: true})
  }
}

function summary(label: string, rounds: Round[]): void {
  const rate = median(rounds.map((r) => r.logsPerSecond))
  const ratio = median(rounds.map((r) => r.ratio))
  const highest = (values: (number | undefined)[]) => {
    const known = values.filter((value) => value !== undefined)
    return known.length > 0 ? Math.max(...known) : undefined
  }

  const load = highest(rounds.map((r) => r.loadRss))
  const peak = highest(rounds.map((r) => r.peakRss))
  console.log(
    `${label}median ${int(rate)} logs/s against the engine's median ceiling ${int(median(rounds.map((r) => r.ceiling)))} rows/s: ` +
      `ratio ${ratio.toFixed(3)} (${target(`≥ ${RATIO_TARGET.toFixed(2)}`, ratio >= RATIO_TARGET)}); ` +
      `serve and engine peak RSS during the load ${load === undefined ? 'n/a' : `${mib(load)} (${target('≤ 1 GiB', load <= RSS_TARGET)})`}, ` +
      `${peak === undefined ? 'n/a' : mib(peak)} with the run's verification`,
  )
}

const builds = flags.compare ? [{bin: flags.compare, label: 'A '}, {bin, label: 'B '}] : [{bin, label: ''}]
console.log(
  `logbench parallel --workers ${flags.workers} --logs-per-worker ${int(Number(flags['logs-per-worker']))}, embedded engine, ${os.cpus().length} CPU cores; ` +
    builds.map((b) => `${b.label}${b.bin}`).join(', '),
)
const results = new Map(builds.map((b) => [b.label, [] as Round[]]))
for (let n = 1; n <= Number(flags.rounds); n++) {
  for (const build of builds) results.get(build.label)!.push(await round(build.label, build.bin, n))
}

for (const build of builds) summary(build.label, results.get(build.label)!)
if (flags.compare) {
  const [a, b] = builds.map((build) => median(results.get(build.label)!.map((r) => r.logsPerSecond)))
  console.log(`B / A: ${(b / a).toFixed(2)}x logs/s`)
}

process.exit([...results.values()].flat().every((r) => r.ok) ? 0 : 1)
