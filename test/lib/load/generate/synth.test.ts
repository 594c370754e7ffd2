import {expect} from 'chai'
import {createHash} from 'node:crypto'

import {LogbenchError} from '../../../../src/lib/errors.js'
import {ByteWriter} from '../../../../src/lib/format/byte-writer.js'
import {DEFAULT_APPS, LogSynth, mix32, type Payload, Rng, seedFrom} from '../../../../src/lib/load/generate/synth.js'
import {LEVELS} from '../../../../src/lib/store/index.js'
import {parseLogs} from '../sink.js'

const T0 = Date.parse('2025-01-02T03:04:05.678Z')
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

describe('load/synth', () => {
  it('gives byte-identical batch bodies for the same seed, in every payload shape', () => {
    for (const payload of ['array', 'wrapped', 'ndjson'] as Payload[]) {
      const a = new LogSynth({runId: 'run-1', seed: 1234})
      const b = new LogSynth({runId: 'run-1', seed: 1234})
      const hashesA: string[] = []
      const hashesB: string[] = []
      // Different construction order and interleaving: content depends only on (seed, seq).
      for (let batch = 0; batch < 20; batch++) hashesA.push(sha(a.batch(batch * 1000, 1, 1000, payload, T0)))
      for (let batch = 19; batch >= 0; batch--) hashesB[batch] = sha(b.batch(batch * 1000, 1, 1000, payload, T0))
      expect(hashesB).to.deep.equal(hashesA)
      expect(new Set(hashesA).size).to.equal(20)
    }
  })

  it('gives different logs for a different seed', () => {
    const a = new LogSynth({runId: 'run-1', seed: 1}).batch(0, 1, 500, 'array', T0)
    const b = new LogSynth({runId: 'run-1', seed: 2}).batch(0, 1, 500, 'array', T0)
    expect(a.equals(b)).to.equal(false)
  })

  it('produces the same logs for 4 interleaved workers as for one worker of the same total', () => {
    const one = new LogSynth({runId: 'r', seed: 7}).batch(0, 1, 4000, 'ndjson', T0).toString().split('\n').filter(Boolean)
    const parts: string[] = []
    for (let worker = 0; worker < 4; worker++) {
      const synth = new LogSynth({runId: 'r', seed: 7})
      parts.push(...synth.batch(worker, 4, 1000, 'ndjson', T0).toString().split('\n').filter(Boolean))
    }

    expect(parts.sort()).to.deep.equal([...one].sort())
  })

  it('writes valid JSON logs with run id, seq, a known app, level, message, source and metadata', () => {
    const synth = new LogSynth({runId: 'run-abc', seed: 99})
    const logs = parseLogs(synth.batch(500, 3, 2000, 'array', T0), 'application/json')
    expect(logs).to.have.length(2000)
    const apps = new Set(DEFAULT_APPS.map(({name}) => name))
    logs.forEach((log, i) => {
      const metadata = log.metadata as Record<string, unknown>
      expect(metadata.run_id).to.equal('run-abc')
      expect(metadata.seq).to.equal(500 + i * 3)
      expect(apps.has(log.app_id as string)).to.equal(true)
      expect(LEVELS).to.include(log.level)
      expect(log.message).to.be.a('string').and.have.length.greaterThan(10)
      expect(log.source).to.be.a('string').and.not.equal('')
      expect(log.timestamp).to.equal('2025-01-02T03:04:05.678Z')
      expect(metadata.request_id).to.match(/^[0-9a-f]{16}$/)
    })
    const lengths = logs.map((log) => (log.message as string).length)
    expect(Math.max(...lengths) - Math.min(...lengths)).to.be.greaterThan(300)
    expect(lengths.some((length) => length < 60)).to.equal(true)
  })

  it('shapes payloads as an array, {"logs": [...]} and NDJSON', () => {
    const synth = new LogSynth({runId: 'r', seed: 1})
    expect(JSON.parse(synth.batch(0, 1, 3, 'array', T0).toString())).to.be.an('array').with.length(3)
    expect(JSON.parse(synth.batch(0, 1, 3, 'wrapped', T0).toString()).logs).to.be.an('array').with.length(3)
    const ndjson = synth.batch(0, 1, 3, 'ndjson', T0).toString()
    expect(ndjson.endsWith('\n')).to.equal(true)
    expect(ndjson.trim().split('\n').map((line) => JSON.parse(line))).to.have.length(3)
    expect(JSON.parse(synth.batch(0, 1, 0, 'array', T0).toString())).to.deep.equal([])
  })

  it('follows app weights, the level mix and --error-rate', () => {
    const synth = new LogSynth({
      apps: [
        {name: 'high-volume-app', weight: 0.7},
        {name: 'medium-app', weight: 0.2},
        {name: 'low-app', weight: 0.1},
      ],
      errorRate: 0.1,
      runId: 'r',
      seed: 5,
    })
    const n = 100_000
    const logs = parseLogs(synth.batch(0, 1, n, 'array', T0))
    const share = (predicate: (log: Record<string, unknown>) => boolean) => logs.filter((log) => predicate(log)).length / n
    expect(share((log) => log.app_id === 'high-volume-app')).to.be.closeTo(0.7, 0.01)
    expect(share((log) => log.app_id === 'medium-app')).to.be.closeTo(0.2, 0.01)
    expect(share((log) => log.app_id === 'low-app')).to.be.closeTo(0.1, 0.01)
    const injected = share((log) => log.source === 'error-injector')
    expect(injected).to.be.closeTo(0.1, 0.01)
    expect(logs.filter((log) => log.source === 'error-injector').every((log) => log.level === 'error')).to.equal(true)
    // Without injection the default mix is mostly info with some of every level.
    const plain = parseLogs(new LogSynth({runId: 'r', seed: 5}).batch(0, 1, 20_000, 'array', T0))
    const levels = new Map<string, number>()
    for (const log of plain) levels.set(log.level as string, (levels.get(log.level as string) ?? 0) + 1)
    expect([...levels.keys()].sort()).to.deep.equal([...LEVELS].sort())
    expect(levels.get('info')! / 20_000).to.be.closeTo(0.7, 0.02)
    expect(plain.some((log) => log.source === 'error-injector')).to.equal(false)
  })

  it('rejects app names and run ids that are not plain identifiers, and bad weights (usage errors)', () => {
    const attempt = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        return error as LogbenchError
      }

      throw new Error('did not throw')
    }

    expect(attempt(() => new LogSynth({apps: [{name: 'a"b', weight: 1}], runId: 'r', seed: 1})).kind).to.equal('usage')
    expect(attempt(() => new LogSynth({runId: 'bad id', seed: 1})).kind).to.equal('usage')
    expect(attempt(() => new LogSynth({apps: [{name: 'a', weight: 0}], runId: 'r', seed: 1})).message).to.include('every weight is 0')
    expect(attempt(() => new LogSynth({errorRate: 1.5, runId: 'r', seed: 1})).message).to.include('--error-rate')
  })

  it('handles sequence numbers beyond 2^32 and writes integers exactly', () => {
    const synth = new LogSynth({runId: 'r', seed: 1})
    const big = 2 ** 40 + 12_345
    const log = JSON.parse(synth.log(big, T0))
    expect(log.metadata.seq).to.equal(big)
    expect(synth.log(big, T0)).to.equal(synth.log(big, T0))
    expect(synth.log(big, T0)).not.to.equal(synth.log(big + 2 ** 32, T0))
    const out = new ByteWriter(16)
    for (const value of [0, 7, 10, 99, 100, 123_456_789, 2_147_483_647, 2_147_483_648, 9_999_999_999, 10_000_000_000, 1_796_168_683_000, 9_007_199_254_740_991]) {
      out.pos = 0
      out.ensure(32)
      out.uint(value)
      expect(out.take().toString()).to.equal(String(value))
    }
  })

  it('has a seeded generator that is stable and well spread', () => {
    expect(seedFrom(42)).to.equal(42)
    expect(seedFrom('42')).to.equal(42)
    expect(seedFrom('hello')).to.equal(seedFrom('hello')).and.not.equal(seedFrom('hellp'))
    expect(mix32(1)).not.to.equal(mix32(2))
    const rng = new Rng().at(1, 0)
    const first = [rng.next(), rng.next(), rng.next()]
    expect(new Rng().at(1, 0).next()).to.equal(first[0])
    const buckets = new Array(10).fill(0)
    for (let i = 0; i < 100_000; i++) buckets[rng.int(10)]++
    for (const count of buckets) expect(count).to.be.closeTo(10_000, 500)
  })
})
