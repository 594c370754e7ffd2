import {expect} from 'chai'
import {PassThrough} from 'node:stream'

import type {RunResult} from '../../../../src/lib/load/result/types.js'
import type {Spawner, WorkerExit, WorkerHandle} from '../../../../src/lib/load/workers/spawn.js'

import {waitForGo} from '../../../../src/lib/load/workers/barrier.js'
import {WORKER_SETTINGS_ENV} from '../../../../src/lib/config.js'
import {decodeWorkerSettings, type LoadSettings, parseLoadFlags, settingsOfWorkers, splitExactly} from '../../../../src/lib/load/settings.js'
import {runParallel, workerLaunch} from '../../../../src/lib/load/workers/parallel.js'
import {encodeEvent, GO_LINE} from '../../../../src/lib/load/workers/events.js'
import {workerResult} from '../results.js'

type Behaviour = 'ok' | 'die' | 'error' | 'slow'

interface FakeWorker {
  handle: WorkerHandle
  args: string[]
  signals: NodeJS.Signals[]
  went: boolean
}

/** A spawner whose workers follow a script: announce, wait for go, report (or die). */
function fakeSpawner(behaviours: Behaviour[], log: string[]): {spawn: Spawner; workers: FakeWorker[]} {
  const workers: FakeWorker[] = []
  const spawn: Spawner = (args, index, env) => {
    const settings = decodeWorkerSettings(env![WORKER_SETTINGS_ENV])
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    const stdin = new PassThrough()
    let exit!: (value: WorkerExit) => void
    const exited = new Promise<WorkerExit>((resolve) => (exit = resolve))
    const worker: FakeWorker = {
      args,
      handle: {
        exited,
        kill(signal) {
          worker.signals.push(signal)
          onSignal(signal)
        },
        pid: 5000 + index,
        stderr,
        stdin,
        stdout,
      },
      signals: [],
      went: false,
    }
    workers.push(worker)
    let finished = false
    const end = (value: WorkerExit) => {
      if (finished) return
      finished = true
      stdout.end()
      stderr.end()
      exit(value)
    }

    let result: RunResult | undefined
    const report = (interrupted: boolean) => {
      stdout.write(encodeEvent('result', {result: {...result!, interrupted, stopReason: interrupted ? 'interrupted' : 'completed'}}))
    }

    const onSignal = (signal: NodeJS.Signals) => {
      if (finished) return
      if (signal === 'SIGKILL') return end({exitCode: null, signal: 'SIGKILL'})
      log.push(`worker ${index} got ${signal}`)
      report(true)
      end({exitCode: 130, signal: null})
    }

    void (async () => {
      const logs = settings.logs!
      result = await workerResult({count: settings.worker.count, index, latencyMs: 5, logs})
      stdout.write(encodeEvent('start', {pid: 5000 + index, plannedLogs: logs, runId: 'run-agg', target: 'http://x', worker: {count: 3, index}}))
      // Workers become ready at different times.
      await new Promise((resolve) => setTimeout(resolve, 5 * index))
      log.push(`worker ${index} ready`)
      stdout.write(encodeEvent('ready', {worker: index}))
      worker.went = await waitForGo(stdin)
      if (!worker.went) return end({exitCode: 130, signal: null})
      log.push(`worker ${index} go`)
      const behaviour = behaviours[index]
      if (behaviour === 'die') {
        stderr.write('FATAL ERROR: Reached heap limit\n')
        return end({exitCode: null, signal: 'SIGKILL'})
      }

      if (behaviour === 'error') {
        stdout.write(encodeEvent('error', {error: {exitCode: 3, kind: 'environment', message: 'cannot reach http://x (ECONNREFUSED)'}}))
        return end({exitCode: 3, signal: null})
      }

      stdout.write(encodeEvent('progress', {...(await progressOf(logs)), worker: index}))
      if (behaviour === 'slow') return // Runs until signalled.
      report(false)
      end({exitCode: 0, signal: null})
    })()
    return worker.handle
  }

  return {spawn, workers}
}

/** The settings of `workers` workers sharing `logs` (parallel's own split). */
function workersOf(workers: number, logs: number): LoadSettings[] {
  return settingsOfWorkers(
    parseLoadFlags({'batch-size': 100, concurrency: 1, logs, 'max-in-flight': 128, retries: 0, seed: 1, target: 'http://x', timeout: '1s', verify: false, 'verify-wait': '0s', workers}),
  )
}

async function progressOf(logs: number) {
  return {
    batches: {acked: 1, failed: 0, sent: 1},
    elapsedMs: 10,
    inFlight: 0,
    logs: {acked: logs, failed: 0, sent: logs},
    logsPerSecond: 1,
    p50Ms: 1,
    p99Ms: 1,
    plannedLogs: logs,
    retries: 0,
  }
}

describe('load/parallel', () => {
  it('splits work exactly', () => {
    expect(splitExactly(10, 3)).to.deep.equal([4, 3, 3])
    expect(splitExactly(8_000_000, 4)).to.deep.equal([2_000_000, 2_000_000, 2_000_000, 2_000_000])
    expect(splitExactly(50_000, 3).reduce((a, b) => a + b, 0)).to.equal(50_000)
    expect(splitExactly(2, 4)).to.deep.equal([1, 1, 0, 0])
  })

  it('gives each worker its slot, share of logs and of the rate', () => {
    const all = settingsOfWorkers(parseLoadFlags({'batch-size': 10, concurrency: 1, logs: 10, 'max-in-flight': 128, rate: 100, retries: 0, seed: 1, target: 'http://t', timeout: '1s', verify: true, 'verify-wait': '0s', workers: 3}))
    const launch = workerLaunch(all[1])
    expect(launch.args).to.deep.equal(['run', '--events', '--barrier', '--worker'])
    const settings = decodeWorkerSettings(launch.env[WORKER_SETTINGS_ENV])
    expect([settings.worker, settings.logs, settings.rate, settings.target?.href, settings.verify]).to.deep.equal([{count: 3, index: 1}, 3, 33, 'http://t/api/logs/batch', false])
  })

  it('releases the workers together once all are ready, and collects their results and progress', async () => {
    const log: string[] = []
    const {spawn, workers} = fakeSpawner(['ok', 'ok', 'ok'], log)
    const progress: number[] = []
    const outcome = await runParallel({
      onEvent: (worker, event) => event.type === 'progress' && progress.push(worker),
      settings: workersOf(3, 1000),
      spawn,
    })
    expect(outcome.interrupted).to.equal(false)
    expect(outcome.workers.map((w) => w.status)).to.deep.equal(['ok', 'ok', 'ok'])
    expect(outcome.workers.map((w) => w.logs.acked)).to.deep.equal([334, 333, 333])
    expect(outcome.workers.map((w) => w.pid)).to.deep.equal([5000, 5001, 5002])
    expect(progress.sort()).to.deep.equal([0, 1, 2])
    // Nobody went before everybody was ready.
    const firstGo = log.findIndex((line) => line.endsWith('go'))
    expect(log.slice(0, firstGo).filter((line) => line.endsWith('ready'))).to.have.length(3)
    expect(workers.every((w) => w.went && w.signals.length === 0)).to.equal(true)
  })

  it('reports a worker that dies with its error while the others still count', async () => {
    const {spawn} = fakeSpawner(['ok', 'die', 'error'], [])
    const outcome = await runParallel({settings: workersOf(3, 1500), spawn})
    const [ok, died, errored] = outcome.workers
    expect(ok).to.include({status: 'ok'})
    expect(ok.logs.acked).to.equal(500)
    expect(died).to.include({signal: 'SIGKILL', status: 'failed'})
    expect(died.error).to.equal('killed by SIGKILL: FATAL ERROR: Reached heap limit before reporting a result')
    expect(errored).to.include({exitCode: 3, status: 'failed'})
    expect(errored.error).to.include('cannot reach http://x (ECONNREFUSED)')
  })

  it('on abort stops every live worker exactly once and keeps their partial results', async () => {
    const controller = new AbortController()
    const {spawn, workers} = fakeSpawner(['ok', 'slow', 'slow'], [])
    const exits: number[] = []
    const progressed = new Set<number>()
    // Stop once worker 0 has finished and the two slow ones are running (have reported progress).
    const maybeStop = () => {
      if (exits.includes(0) && progressed.has(1) && progressed.has(2)) controller.abort()
    }

    const running = runParallel({
      onEvent(worker, event) {
        if (event.type === 'progress') progressed.add(worker)
        maybeStop()
      },
      onExit(worker) {
        exits.push(worker)
        maybeStop()
      },
      settings: workersOf(3, 300),
      signal: controller.signal,
      spawn,
    })
    const outcome = await running
    expect(outcome.interrupted).to.equal(true)
    expect(outcome.workers.map((w) => w.status)).to.deep.equal(['ok', 'interrupted', 'interrupted'])
    expect(outcome.workers[1].result?.interrupted).to.equal(true)
    expect(workers[0].signals).to.deep.equal([])
    expect(workers[1].signals).to.deep.equal(['SIGTERM'])
    expect(workers[2].signals).to.deep.equal(['SIGTERM'])
    expect(exits.sort()).to.deep.equal([0, 1, 2])
  })

  it('kills workers that ignore the stop after the grace period, and reports them failed', async () => {
    const controller = new AbortController()
    const handles: WorkerHandle[] = []
    const signals: string[] = []
    const spawn: Spawner = () => {
      let exit!: (value: WorkerExit) => void
      const stdout = new PassThrough()
      const handle: WorkerHandle = {
        exited: new Promise((resolve) => (exit = resolve)),
        kill(signal) {
          signals.push(signal)
          if (signal === 'SIGKILL') {
            stdout.end()
            exit({exitCode: null, signal: 'SIGKILL'})
          }
        },
        pid: 1,
        stderr: new PassThrough(),
        stdin: new PassThrough(),
        stdout,
      }
      handles.push(handle)
      setImmediate(() => stdout.write(encodeEvent('ready', {worker: 0})))
      return handle
    }

    // Stop once the worker has said it is ready; it ignores SIGTERM.
    const onEvent = (_worker: number, event: {type: string}) => event.type === 'ready' && controller.abort()
    const outcome = await runParallel({graceMs: 50, onEvent, settings: workersOf(1, 10), signal: controller.signal, spawn})
    expect(signals).to.deep.equal(['SIGTERM', 'SIGKILL'])
    // It never reported: it counts as failed, with the reason.
    expect(outcome.workers[0]).to.include({signal: 'SIGKILL', status: 'failed'})
    expect(outcome.workers[0].error).to.include('killed by SIGKILL')
    expect(GO_LINE).to.equal('go\n')
  })
})
