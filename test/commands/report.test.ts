import {expect} from 'chai'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import type {Interval, Timeline} from '../../src/lib/load/measure/timeline.js'

import {runCli, tempDir, waitUntil} from '../helpers.js'
import {startCli} from '../lib/load/cli.js'
import {type Sink, startSink} from '../lib/load/sink.js'

const sumAcked = (timeline: Timeline) => timeline.intervals.reduce((sum, i) => sum + i.acked, 0)

/** The merged timeline equals the workers' added up, interval by interval. */
function expectSumOfWorkers(merged: Timeline, workers: Timeline[]): void {
  for (const w of workers) expect(w.intervalMs).to.equal(merged.intervalMs)
  const maps = workers.map((w) => new Map(w.intervals.map((i) => [i.at, i])))
  for (const interval of merged.intervals) {
    const same = maps.map((m) => m.get(interval.at)).filter((i): i is Interval => i !== undefined)
    for (const key of ['sent', 'acked', 'failed', 'bytes', 'cpuMs'] as const) {
      expect(interval[key], `${key} at ${new Date(interval.at).toISOString()}`).to.be.closeTo(same.reduce((s, i) => s + i[key], 0), 1e-6)
    }

    expect(interval.latency.count).to.equal(same.reduce((s, i) => s + i.latency.count, 0))
  }

  const covered = new Set(merged.intervals.map((i) => i.at))
  for (const w of workers) for (const i of w.intervals) expect(covered.has(i.at)).to.equal(true)
}

describe('logbench report', () => {
  let sink: Sink
  let dir: string

  before(async () => {
    sink = await startSink()
    dir = tempDir('logbench-report-cmd-')
  })

  after(async () => {
    await sink.stop()
    rmSync(dir, {force: true, recursive: true})
  })

  it('run --json: the timeline adds up to logs.acked, and "report" on the saved result writes the page --report wrote', async () => {
    const direct = path.join(dir, 'run.html')
    const run = await runCli(['run', '--target', sink.url, '--duration', '2500ms', '--concurrency', '2', '--batch-size', '200', '--interval', '500ms', '--json', '--report', direct])
    expect(run.code, run.stderr).to.equal(0)
    const json = JSON.parse(run.stdout)
    expect(json.timeline.intervalMs).to.equal(500)
    // One interval every 500 ms, none missing, over the run's own span (2.5 s at least, however long it took).
    const ats: number[] = json.timeline.intervals.map((i: Interval) => i.at)
    expect(ats).to.deep.equal(Array.from({length: ats.length}, (_, k) => ats[0] + k * 500))
    expect(ats.length).to.be.at.least(5)
    const active = json.timeline.intervals.filter((i: Interval) => i.sent > 0 || i.acked > 0).map((i: Interval) => i.at)
    expect(active[0]).to.be.at.least(Math.floor(Date.parse(json.startedAt) / 500) * 500 - 500)
    expect(active.at(-1)).to.be.at.most(Math.floor(Date.parse(json.endedAt) / 500) * 500 + 500)
    expect(sumAcked(json.timeline)).to.equal(json.logs.acked)
    expect(json.timeline.intervals.reduce((s: number, i: Interval) => s + i.sent, 0)).to.equal(json.logs.sent)
    expect(json.timeline.intervals.reduce((s: number, i: Interval) => s + i.bytes, 0)).to.equal(json.bytes.sent)
    expect(json.bottleneck.kind).to.be.a('string')
    expect(json.clickhouse).to.equal(null)
    const saved = path.join(dir, 'run.json')
    writeFileSync(saved, run.stdout)
    const again = path.join(dir, 'again.html')
    const report = await runCli(['report', saved, '-o', again])
    expect(report.code, report.stderr).to.equal(0)
    expect(report.stdout).to.include(again)
    expect(readFileSync(again, 'utf8')).to.equal(readFileSync(direct, 'utf8'))
    // The terminal report has the over-time charts, within 80 columns.
    const human = await runCli(['run', '--target', sink.url, '--duration', '2s', '--concurrency', '2', '--batch-size', '200'])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.include('Over Time').and.include('acknowledged logs/s').and.include('p99 latency').and.include('What Limited the Result')
    const overTime = human.stdout.slice(human.stdout.indexOf('Over Time'), human.stdout.indexOf('What Limited the Result'))
    expect(overTime.split('\n').length).to.be.greaterThan(10)
    for (const line of overTime.split('\n')) expect([...line].length, line).to.be.at.most(80)
  })

  it('renders an interrupted run the same way from its saved result', async () => {
    const slow = await startSink({delayMs: 50})
    try {
      const direct = path.join(dir, 'interrupted.html')
      const cli = startCli(['run', '--target', slow.url, '--logs', '10000000', '--concurrency', '2', '--json', '--report', direct])
      await waitUntil(() => slow.requests >= 30, '30 requests')
      cli.child.kill('SIGINT')
      const result = await cli.done
      expect(result.code, result.stderr).to.equal(130)
      const json = JSON.parse(result.stdout)
      expect(json.interrupted).to.equal(true)
      expect(sumAcked(json.timeline)).to.equal(json.logs.acked)
      const saved = path.join(dir, 'interrupted.json')
      writeFileSync(saved, result.stdout)
      const html = readFileSync(direct, 'utf8')
      expect(html).to.include('Interrupted before the end')
      rmSync(direct)
      const report = await runCli(['report', saved])
      expect(report.code, report.stderr).to.equal(0)
      expect(readFileSync(direct, 'utf8')).to.equal(html)
      // Written next to the result by default: the same name, so the same file as --report.
      expect(report.stdout).to.include(path.join(dir, 'interrupted.html'))
    } finally {
      await slow.stop()
    }
  })

  it('parallel and merge: the merged timeline is the sum of the workers\', interval by interval', async () => {
    const run = await runCli(['parallel', '--workers', '2', '--target', sink.url, '--duration', '2s', '--concurrency', '2', '--batch-size', '200', '--json'])
    expect(run.code, run.stderr).to.equal(0)
    const json = JSON.parse(run.stdout)
    const workers = json.workers.map((w: {result: {timeline: Timeline}}) => w.result.timeline)
    expectSumOfWorkers(json.timeline, workers)
    expect(sumAcked(json.timeline)).to.equal(json.logs.acked)

    const files = json.workers.map((w: {result: unknown}, n: number) => {
      const file = path.join(dir, `worker-${n}.json`)
      writeFileSync(file, JSON.stringify(w.result))
      return file
    })
    const html = path.join(dir, 'merge.html')
    const merged = await runCli(['merge', ...files, '--json', '--report', html, '--interval', '2s'])
    expect(merged.code, merged.stderr).to.equal(0)
    const mergedJson = JSON.parse(merged.stdout)
    expect(mergedJson.timeline.intervalMs).to.equal(2000)
    expect(sumAcked(mergedJson.timeline)).to.equal(json.logs.acked)
    expect(mergedJson.bottleneck.summary).to.be.a('string')
    const fine = await runCli(['merge', ...files, '--json'])
    expectSumOfWorkers(JSON.parse(fine.stdout).timeline, workers)
    expect(readFileSync(html, 'utf8')).to.include('data-chart="workers"')
  })

  it('refuses an --interval out of range (exit 2)', async () => {
    const result = await runCli(['run', '--target', sink.url, '--interval', '10ms', '--logs', '100'])
    expect(result.code).to.equal(2)
    expect(result.stderr).to.include('--interval 10ms is out of range')
  })

  it('refuses a file that is not a result (exit 2)', async () => {
    const bad = path.join(dir, 'bad.json')
    writeFileSync(bad, '{"hello": 1}')
    const result = await runCli(['report', bad, '-o', path.join(dir, 'x.html')])
    expect(result.code).to.equal(2)
    expect(result.stderr).to.include('is not a logbench result')
    writeFileSync(bad, 'not json')
    expect((await runCli(['report', bad])).code).to.equal(2)
    expect((await runCli(['report', path.join(dir, 'missing.json')])).code).to.equal(2)
  })
})
