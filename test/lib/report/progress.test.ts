import {expect} from 'chai'
import {PassThrough} from 'node:stream'

import type {ProgressSnapshot} from '../../../src/lib/load/send/sender.js'

import {createProgress, fractionDone, snapshotLine, totalLine} from '../../../src/lib/report/progress.js'
import {waitUntil} from '../../helpers.js'

const snap = (acked: number, planned?: number, extra: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  batches: {acked: acked / 1000, failed: 0, sent: acked / 1000},
  elapsedMs: 4000,
  inFlight: 2,
  logs: {acked, failed: 0, sent: acked},
  logsPerSecond: 25_000,
  p50Ms: 3,
  p99Ms: 12.25,
  plannedLogs: planned,
  retries: 0,
  ...extra,
})

function collect(stream: PassThrough): () => string {
  let text = ''
  stream.on('data', (chunk) => (text += chunk))
  return () => text
}

describe('report/progress', () => {
  it('describes a worker: share done, counts, rate, p99', () => {
    expect(fractionDone(snap(250, 1000))).to.equal(0.25)
    expect(fractionDone(snap(0, undefined, {elapsedMs: 5000, plannedDurationMs: 10_000}))).to.equal(0.5)
    expect(snapshotLine(snap(155_000, 250_000))).to.equal('62% · 155,000/250,000 logs · 25,000 logs/s · p99 12.3 ms')
    expect(snapshotLine(snap(155_000, 250_000), true)).to.match(/^█{12}░{8} 62%/)
    expect(snapshotLine(snap(10, undefined, {logs: {acked: 10, failed: 5, sent: 15}, retries: 2}))).to.equal('10 logs · 25,000 logs/s · p99 12.3 ms · 2 retries · 5 failed')
  })

  it('sums workers into one line', () => {
    const line = totalLine([snap(100_000, 250_000), snap(150_000, 250_000, {p99Ms: 40})])
    expect(line).to.equal('[  4.00 s] 250,000/500,000 logs acknowledged (50%) · 50,000 logs/s · worst p99 40.0 ms')
    expect(totalLine([snap(1000, 2000), undefined])).to.include('1,000 logs acknowledged')
  })

  it('prints plain lines on its stream when not a terminal, at most one per interval', async () => {
    const stream = new PassThrough()
    const text = collect(stream)
    const view = createProgress({intervalMs: 30, mode: 'plain', stream, workers: 2})
    view.note('2 workers → http://127.0.0.1:3000/api/logs/batch')
    for (let i = 1; i <= 50; i++) view.update(i % 2, snap(i * 1000, 100_000))
    // Fifty updates before the first tick make one line: wait for it, then for one more tick with nothing new.
    await waitUntil(() => text().includes('logs acknowledged'), 'the summary line')
    await new Promise((resolve) => setTimeout(resolve, 60))
    view.finish(0, 'ok', '50,000 logs in 2.00 s')
    view.finish(1, 'failed', 'killed by SIGKILL')
    await view.stop()
    const lines = text().trim().split('\n')
    expect(lines[0]).to.equal('2 workers → http://127.0.0.1:3000/api/logs/batch')
    expect(lines.filter((line) => line.includes('logs acknowledged'))).to.have.length(1)
    expect(lines).to.include('worker 1 finished: 50,000 logs in 2.00 s')
    expect(lines).to.include('worker 2 FAILED: killed by SIGKILL')
  })

  it('prints nothing in none mode (--json)', async () => {
    const stream = new PassThrough()
    const text = collect(stream)
    const view = createProgress({mode: 'none', stream, workers: 1})
    view.update(0, snap(1, 2))
    view.note('x')
    view.finish(0, 'ok', 'done')
    await view.stop()
    expect(text()).to.equal('')
  })

  it('renders listr2 tasks on a terminal stream and ends them', async () => {
    const stream = Object.assign(new PassThrough(), {columns: 120, isTTY: true, rows: 40})
    const text = collect(stream)
    const view = createProgress({mode: 'tty', stream, workers: 2})
    view.update(0, snap(500, 1000))
    view.finish(0, 'ok', '1,000 logs in 1.00 s')
    view.finish(1, 'failed', 'exited with code 3')
    await view.stop()
    expect(text()).to.include('worker 1')
    expect(text()).to.include('1,000 logs in 1.00 s')
    expect(text()).to.include('exited with code 3')
  })
})
