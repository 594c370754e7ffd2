import {expect} from 'chai'
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'

import type {ClickHouseSample, ClickHouseView} from '../../../../src/lib/load/measure/clickhouse-view.js'

import {emptyInterval, type Interval, type Timeline} from '../../../../src/lib/load/measure/timeline.js'
import {bottleneck, stalls, type VerdictInput} from '../../../../src/lib/load/measure/bottleneck.js'
import {runCli} from '../../../helpers.js'
import {startSink} from '../sink.js'

const T0 = Date.parse('2025-01-01T00:00:00Z')

/**
 * The cheapest target there is: plain TCP that skips each request's headers and Content-Length
 * bytes of body and answers 202, without node:http's parser and objects. Against it one worker's
 * own cost is the limit, with the most room to spare on 2 shared cores.
 */
function startDiscardingTarget(): Promise<net.Server> {
  const answer = Buffer.from('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n')
  const server = net.createServer((socket) => {
    let head = Buffer.alloc(0)
    let bodyLeft = 0
    socket.on('data', (chunk: Buffer) => {
      let data = chunk
      while (data.length > 0) {
        if (bodyLeft > 0) {
          const skip = Math.min(bodyLeft, data.length)
          bodyLeft -= skip
          data = data.subarray(skip)
          if (bodyLeft === 0) socket.write(answer)
          continue
        }

        head = head.length === 0 ? data : Buffer.concat([head, data])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) return
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head.subarray(0, end).toString('latin1'))
        bodyLeft = length ? Number(length[1]) : 0
        data = head.subarray(end + 4)
        head = Buffer.alloc(0)
        if (bodyLeft === 0) socket.write(answer)
      }
    })
    socket.on('error', () => {})
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function timeline(n: number, each: (i: number) => Partial<Interval>): Timeline {
  return {intervalMs: 1000, intervals: Array.from({length: n}, (_, i) => ({...emptyInterval(T0 + i * 1000), acked: 1000, sent: 1000, ...each(i)}))}
}

const latency = (p99Ms: number) => ({latency: {count: 10, maxMs: p99Ms, p50Ms: p99Ms / 2, p90Ms: p99Ms, p99Ms}})

function input(overrides: Partial<VerdictInput>): VerdictInput {
  return {
    acked: 10_000,
    concurrency: 4,
    errors: 0,
    model: 'closed',
    p50Ms: 20,
    p99Ms: 50,
    rate: null,
    retriesByClass: {},
    timeline: timeline(10, () => latency(50)),
    workers: [{busyMs: 300, cpuMs: 300, durationMs: 10_000}],
    ...overrides,
  }
}

function view(parts: number[], delay: number): ClickHouseView {
  const samples: ClickHouseSample[] = parts.map((p, i) => ({activeParts: p, at: T0 + i * 1000, delayedInserts: 0, insertedRows: 1000, maxPartsPerPartition: p, memoryBytes: 1e8, merges: 1, queryCpuMs: 10, rejectedInserts: 0}))
  return {errors: [], intervalMs: 1000, limits: {partsToDelayInsert: delay, partsToThrowInsert: 300, source: 'table'}, samples, stored: null, table: 'db.logs', warnings: []}
}

describe('load/measure/verdict', () => {
  it('generators busy ≥ 90%: the figure understates the target', () => {
    const verdict = bottleneck(input({workers: [{busyMs: 9700, cpuMs: 9500, durationMs: 10_000}, {busyMs: 9300, cpuMs: 9000, durationMs: 10_000}]}))
    expect(verdict.kind).to.equal('generator')
    expect(verdict.summary).to.include('understates')
    expect(verdict.evidence.join(' ')).to.include('95%')
  })

  it('a generator using ≥ 90% of a core is saturated even when its event loop shows idle slices', () => {
    const verdict = bottleneck(input({workers: [{busyMs: 8500, cpuMs: 9500, durationMs: 10_000}]}))
    expect(verdict.kind).to.equal('generator')
    expect(verdict.summary).to.include('using 95% of a CPU core')
    // Neither measure saturated: the target set the pace.
    expect(bottleneck(input({workers: [{busyMs: 8500, cpuMs: 8500, durationMs: 10_000}]})).kind).to.equal('target')
  })

  it('the generator sharing its process with serve says so', () => {
    expect(bottleneck(input({sharedProcess: true, workers: [{busyMs: 9900, cpuMs: 15_000, durationMs: 10_000}]})).kind).to.equal('shared-process')
  })

  it('slower answers while parts climbed: the parts verdict, naming both', () => {
    const verdict = bottleneck(input({clickhouse: view([2, 3, 4, 6, 8, 10, 12, 14, 15, 16], 20), timeline: timeline(12, (i) => latency(20 + i * 20))}))
    expect(verdict.kind).to.equal('target-parts')
    expect(verdict.summary).to.match(/parts per partition 2 → 16/)
  })

  it('retries bunched at 503: the backpressure verdict', () => {
    const verdict = bottleneck(input({retriesByClass: {http_503: 60}, timeline: timeline(20, (i) => ({...latency(50), retries: i === 7 ? {http_503: 50} : i === 12 ? {http_503: 10} : {}}))}))
    expect(verdict.kind).to.equal('target-backpressure')
    expect(verdict.evidence.at(-1)).to.match(/60 retries at 503/)
  })

  it('an open-model run that kept its rate: nothing saturated; one that did not: the target', () => {
    expect(bottleneck(input({model: 'open', rate: {achievedLogsPerSecond: 9950, targetLogsPerSecond: 10_000}})).kind).to.equal('none')
    const behind = bottleneck(input({model: 'open', rate: {achievedLogsPerSecond: 6000, targetLogsPerSecond: 10_000}}))
    expect(behind.kind).to.equal('target')
    expect(behind.summary).to.include('6,000 of 10,000')
  })

  it('names a CPU-bound serve when the generators had time to spare', () => {
    const serveResources = {intervalMs: 1000, samples: Array.from({length: 6}, (_, i) => ({at: T0 + i * 1000, cpuMs: 960, rssBytes: 1e8}))}
    const verdict = bottleneck(input({serveResources}))
    expect(verdict.kind).to.equal('target')
    expect(verdict.summary).to.match(/serve was CPU-bound \(96% of a core/)
  })

  describe("the sender's own view decides whether the generator limited the run", () => {
    // A worker's timeline with what its sender observed in each interval (the first and last are trimmed).
    const observed = (each: Partial<Interval>) => ({busyMs: 5000, cpuMs: 5000, durationMs: 10_000, timeline: timeline(10, () => ({...latency(50), ...each}))})

    it('closed model: free slots that waited longer for the next batch than for answers mean the generator', () => {
      const verdict = bottleneck(input({workers: [observed({answerWaitMs: 300, generatorWaitMs: 700})]}))
      expect(verdict.kind).to.equal('generator')
      expect(verdict.summary).to.include("70% of their time waiting for the generator's next batch and 30% waiting idle for answers")
      expect(verdict.evidence).to.include("free in-flight slots spent 70% of their time waiting for the generator's next batch and 30% waiting idle for answers (steady intervals)")
    })

    it('closed model: slots that waited on answers mean the target, whatever the CPU share says', () => {
      const verdict = bottleneck(input({workers: [observed({answerWaitMs: 900, busyMs: 990, cpuMs: 990, generatorWaitMs: 100})]}))
      expect(verdict.kind).to.equal('target')
      // The shares stay as evidence.
      expect(verdict.evidence.join(' ')).to.include('99%')
    })

    it('closed model: waits are added over the workers, and an even split is the generator', () => {
      const verdict = bottleneck(input({workers: [observed({answerWaitMs: 100, generatorWaitMs: 400}), observed({answerWaitMs: 400, generatorWaitMs: 100})]}))
      expect(verdict.kind).to.equal('generator')
      expect(verdict.summary).to.include('50% of their time waiting')
    })

    it('open model: sends more than 2% behind the schedule with no slot waits mean the generator; with slot waits, the target', () => {
      const behind = bottleneck(input({model: 'open', rate: {achievedLogsPerSecond: 9000, targetLogsPerSecond: 10_000}, workers: [observed({intended: 1000, sent: 950})]}))
      expect(behind.kind).to.equal('generator')
      expect(behind.summary).to.include('5% behind the schedule (7,600 of 8,000 logs due')
      const slots = bottleneck(input({model: 'open', rate: {achievedLogsPerSecond: 9000, targetLogsPerSecond: 10_000}, workers: [observed({intended: 1000, sent: 950, slotWaits: 3})]}))
      expect(slots.kind).to.equal('target')
      expect(slots.evidence.join(' ')).to.include('24 batches waited for a free in-flight slot')
      const onTime = bottleneck(input({model: 'open', rate: {achievedLogsPerSecond: 9990, targetLogsPerSecond: 10_000}, workers: [observed({intended: 1000, sent: 990})]}))
      expect(onTime.kind).to.equal('none')
    })

    it('the generator of a zero set-up run, sharing its process with serve, names the shared process', () => {
      expect(bottleneck(input({sharedProcess: true, workers: [observed({answerWaitMs: 10, generatorWaitMs: 990})]})).kind).to.equal('shared-process')
    })
  })

  it('finds stalls: consecutive intervals without acknowledgements between two that had some', () => {
    const found = stalls(timeline(10, (i) => (i === 4 || i === 5 ? {acked: 0} : {})))
    expect(found).to.deep.equal([{at: T0 + 4000, ms: 2000}])
  })

  describe('from real runs (the built CLI)', function () {
    this.timeout(120_000)

    it('a worker against a target that answers at once: every slot waits on the generator, the generator verdict', async function () {
      // 128 slots and a target that answers as soon as it has read a body: whatever share of the CPU
      // either gets, free slots wait for the generator's next batch far longer than for answers.
      const server = await startDiscardingTarget()
      const {port} = server.address() as AddressInfo
      const sockets = new Set<net.Socket>()
      server.on('connection', (socket) => {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
      })
      try {
        const run = await runCli(['parallel', '--workers', '1', '--target', `http://127.0.0.1:${port}/`, '--no-verify', '--duration', '4s', '--concurrency', '128', '--batch-size', '1000', '--json'])
        expect(run.code, run.stderr).to.equal(0)
        const json = JSON.parse(run.stdout)
        expect(json.bottleneck.kind, JSON.stringify(json.bottleneck)).to.equal('generator')
        expect(json.bottleneck.summary).to.include('understates')
        expect(json.bottleneck.summary).to.match(/free in-flight slots spent \d+% of their time waiting for the generator's next batch/)
        // The sender's figures are in the worker's timeline, the CPU and event-loop shares still in the evidence.
        const intervals = json.workers[0].result.timeline.intervals as Interval[]
        const waits = intervals.reduce((sum, i) => ({answers: sum.answers + (i.answerWaitMs ?? 0), generator: sum.generator + (i.generatorWaitMs ?? 0)}), {answers: 0, generator: 0})
        expect(waits.generator).to.be.greaterThan(waits.answers)
        expect(json.bottleneck.evidence.join(' ')).to.match(/event loop busy \d+%/)
      } finally {
        for (const socket of sockets) socket.destroy()
        await new Promise((resolve) => server.close(resolve))
      }
    })

    it('a target that pushes back with 503 for a run of requests: retries in bursts at 503', async () => {
      // Requests 300 to 399 are refused: a burst by count, not by time, so it is one whatever the machine's speed.
      let requests = 0
      const sink = await startSink({
        answer(_request, logs) {
          requests++
          if (requests >= 300 && requests < 400) return {body: '{"error":"busy"}', headers: {'retry-after': '0'}, status: 503}
          return {body: JSON.stringify({accepted: logs}), status: 202}
        },
      })
      try {
        const run = await runCli(['run', '--target', sink.url, '--no-verify', '--logs', '200000', '--concurrency', '2', '--batch-size', '200', '--retries', '20', '--json'])
        expect(run.code, run.stderr).to.equal(0)
        const json = JSON.parse(run.stdout)
        expect(json.retries.byClass.http_503).to.be.greaterThan(0)
        expect(json.bottleneck.kind, JSON.stringify(json.bottleneck)).to.equal('target-backpressure')
        expect(json.bottleneck.summary).to.include('bursts at 503')
      } finally {
        await sink.stop()
      }
    })

    it('a slow target: a target-side verdict', async () => {
      const sink = await startSink({delayMs: 150})
      try {
        const run = await runCli(['parallel', '--workers', '2', '--target', sink.url, '--no-verify', '--duration', '2s', '--concurrency', '2', '--batch-size', '200', '--json'])
        expect(run.code, run.stderr).to.equal(0)
        const json = JSON.parse(run.stdout)
        expect(json.bottleneck.kind, JSON.stringify(json.bottleneck)).to.equal('target')
        expect(json.bottleneck.summary).to.include('(p50)')
      } finally {
        await sink.stop()
      }
    })
  })
})
