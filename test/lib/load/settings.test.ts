import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {LogbenchError} from '../../../src/lib/errors.js'
import {decodeWorkerSettings, encodeWorkerSettings, type LoadFlagValues, type LoadSettings, newRunId, outstandingOf, parseApps, parseHeader, parseLoadFlags, settingsOfWorkers, withToken} from '../../../src/lib/load/settings.js'
import {parseShare} from '../../../src/lib/parse.js'

const defaults: LoadFlagValues = {
  'batch-size': 1000,
  concurrency: 4,
  'max-in-flight': 128,
  payload: 'array',
  retries: 5,
  seed: 1,
  timeout: '30s',
  verify: true,
  'verify-wait': '0s',
}

const usage = (f: () => unknown): string => {
  try {
    f()
  } catch (error) {
    expect((error as LogbenchError).kind).to.equal('usage')
    return (error as Error).message
  }

  throw new Error('expected a usage error')
}

describe('load/options', () => {
  it('reads the flags into settings with defaults and units', () => {
    const s = parseLoadFlags({...defaults, duration: '2m', 'error-rate': '5%', header: ['Authorization: Bearer x:y', 'X-Env:  test'], 'run-id': 'r-1', target: 'http://127.0.0.1:3000'})
    expect(s.target?.href).to.equal('http://127.0.0.1:3000/api/logs/batch')
    expect(s.durationMs).to.equal(120_000)
    expect(s.timeoutMs).to.equal(30_000)
    expect(s.errorRate).to.equal(0.05)
    expect(s.headers).to.deep.equal({authorization: 'Bearer x:y', 'x-env': 'test'})
    expect(s.runId).to.equal('r-1')
    expect(parseLoadFlags({...defaults, target: 'https://api.example.com/v1/logs?x=1'}).target?.href).to.equal('https://api.example.com/v1/logs?x=1')
    expect(parseLoadFlags(defaults).target).to.equal(undefined)
    expect(parseLoadFlags({...defaults, duration: '10'}).durationMs).to.equal(10_000)
  })

  it('sends LOGBENCH_TOKEN as a bearer token unless --header sets Authorization', () => {
    expect(withToken(parseLoadFlags(defaults), 'tok').headers).to.deep.equal({authorization: 'Bearer tok'})
    expect(withToken(parseLoadFlags({...defaults, header: ['Authorization: Basic x']}), 'tok').headers).to.deep.equal({authorization: 'Basic x'})
    expect(withToken(parseLoadFlags(defaults), undefined).headers).to.deep.equal({})
  })

  it('makes readable, unique run ids', () => {
    const id = newRunId(new Date('2025-01-02T03:04:05Z'))
    expect(id).to.match(/^run-20250102-030405-[0-9a-f]{6}$/)
    expect(newRunId()).not.to.equal(newRunId())
  })

  it('parses --apps, --header and shares, rejecting the malformed', () => {
    expect(parseApps('high-volume-app:0.7,medium-app:0.2, low-app:0.1')).to.deep.equal([
      {name: 'high-volume-app', weight: 0.7},
      {name: 'medium-app', weight: 0.2},
      {name: 'low-app', weight: 0.1},
    ])
    expect(parseApps('a,b:3')).to.deep.equal([
      {name: 'a', weight: 1},
      {name: 'b', weight: 3},
    ])
    expect(usage(() => parseApps('a:x'))).to.include('"a:x"')
    expect(usage(() => parseApps('a,a'))).to.include('twice')
    expect(usage(() => parseApps('bad name:1'))).to.include('not name:weight')
    expect(parseHeader('Content-Type: application/json')).to.deep.equal(['content-type', 'application/json'])
    expect(usage(() => parseHeader('no colon'))).to.include('Name: value')
    expect(parseShare('error-rate', '0.25')).to.equal(0.25)
    expect(usage(() => parseShare('error-rate', '150%'))).to.include('--error-rate')
    expect(usage(() => parseLoadFlags({...defaults, target: 'ftp://x'}))).to.include('http')
    expect(usage(() => parseLoadFlags({...defaults, target: 'not a url'}))).to.include('not a URL')
    expect(usage(() => parseLoadFlags({...defaults, 'run-id': 'a b'}))).to.include('--run-id')
    expect(usage(() => parseLoadFlags({...defaults, duration: 'soon'}))).to.include('--duration')
    expect(usage(() => parseLoadFlags({...defaults, threshold: ['speed>1']}))).to.include('speed')
  })

  it('hands every setting to a worker as it is: decode(encode(s)) is s, for each worker of a split', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'logbench-settings-'))
    const template = path.join(dir, 't.json')
    writeFileSync(template, '{"m": "{{message}}", "id": "{{seq}}"}')
    // Every flag away from its default, so a setting the encoding dropped or changed would show.
    const flags: LoadFlagValues = {
      apps: 'a:1,b:2',
      'batch-size': 500,
      concurrency: 7,
      duration: '5s',
      'error-rate': '0.1',
      header: ['X-A: 1', 'Authorization: Bearer t'],
      interval: '250ms',
      'max-in-flight': 33,
      payload: 'ndjson',
      rate: 9001,
      retries: 2,
      'run-id': 'run-x',
      seed: 9,
      target: 'http://127.0.0.1:1/custom/path?x=1',
      template,
      threshold: ['p99<=250ms', 'lost==0'],
      timeout: '2s',
      verify: false,
      'verify-wait': '3s',
      workers: 3,
    }
    const settings = parseLoadFlags(flags)
    const plain = (value: LoadSettings) => JSON.parse(JSON.stringify(value)) as unknown
    expect(plain(decodeWorkerSettings(encodeWorkerSettings(settings)))).to.deep.equal(plain(settings))
    for (const worker of settingsOfWorkers(settings)) {
      const back = decodeWorkerSettings(encodeWorkerSettings(worker))
      expect(plain(back)).to.deep.equal(plain(worker))
      expect(back.template?.parts).to.deep.equal(settings.template?.parts)
      expect(back.target?.href).to.equal('http://127.0.0.1:1/custom/path?x=1')
    }

    // Each worker gets its place and an exact share; thresholds and verification stay with the parent.
    const workers = settingsOfWorkers(settings)
    expect(workers.map((w) => w.worker)).to.deep.equal([0, 1, 2].map((index) => ({count: 3, index})))
    expect(workers.map((w) => w.rate)).to.deep.equal([3001, 3000, 3000])
    expect(workers.every((w) => w.thresholds.length === 0 && !w.verify && w.workers === 1)).to.equal(true)
    expect(outstandingOf(settings)).to.equal(33)
    expect(outstandingOf({...settings, rate: undefined})).to.equal(7)
    expect(() => decodeWorkerSettings('{"v": 99}')).to.throw(/version 99/)
  })

  it('plans the logs of a run and of parallel, and refuses work that cannot be split', () => {
    expect(parseLoadFlags(defaults).logs).to.equal(100_000)
    expect(parseLoadFlags({...defaults, duration: '1s'}).logs).to.equal(undefined)
    expect(parseLoadFlags({...defaults, workers: 4}).logs).to.equal(8_000_000)
    expect(parseLoadFlags({...defaults, 'logs-per-worker': 250_000, workers: 4}).logs).to.equal(1_000_000)
    expect(settingsOfWorkers(parseLoadFlags({...defaults, logs: 10, workers: 3})).map((w) => w.logs)).to.deep.equal([4, 3, 3])
    expect(usage(() => parseLoadFlags({...defaults, logs: 2, workers: 3}))).to.include('fewer than one log')
    expect(usage(() => parseLoadFlags({...defaults, rate: 2, target: 'http://x', workers: 3}))).to.include('less than one log per second')
    expect(usage(() => parseLoadFlags({...defaults, 'worker-count': 2, 'worker-index': 2}))).to.include('--worker-index 2')
  })
})

describe('load shapes: --stage, --start-rate, --warmup', () => {
  it('reads stages, splits every stage\'s rate exactly over the workers and keeps the warm-up', () => {
    const settings = parseLoadFlags({...defaults, concurrency: undefined, stage: ['30s:20k', '0s:5000', '1m:5000'], 'start-rate': '1000', target: 'http://x', warmup: '10s', workers: 3})
    expect(settings.stages).to.deep.equal([
      {durationMs: 30_000, rate: 20_000},
      {durationMs: 0, rate: 5000},
      {durationMs: 60_000, rate: 5000},
    ])
    expect([settings.startRate, settings.warmupMs, settings.logs]).to.deep.equal([1000, 10_000, undefined])
    expect(outstandingOf(settings)).to.equal(128)
    const workers = settingsOfWorkers(settings)
    expect(workers.map((w) => w.stages!.map((stage) => stage.rate))).to.deep.equal([
      [6667, 1667, 1667],
      [6667, 1667, 1667],
      [6666, 1666, 1666],
    ])
    expect(workers.map((w) => w.startRate)).to.deep.equal([334, 333, 333])
    expect(workers.every((w) => w.warmupMs === 10_000)).to.equal(true)
  })

  it('refuses bad shapes with exit 2, naming the value', () => {
    const base = {...defaults, concurrency: undefined, target: 'http://x'}
    expect(usage(() => parseLoadFlags({...base, stage: ['30x:100']}))).to.include('--stage "30x:100": the duration')
    expect(usage(() => parseLoadFlags({...base, stage: ['30s']}))).to.include('--stage "30s" is not DURATION:RATE')
    expect(usage(() => parseLoadFlags({...base, stage: ['30s:-5']}))).to.include('--stage "30s:-5": the rate "-5" is not a rate')
    expect(usage(() => parseLoadFlags({...base, stage: ['30s:1.5']}))).to.include('not a whole number')
    expect(usage(() => parseLoadFlags({...base, concurrency: 8, stage: ['30s:100']}))).to.include('--stage and --concurrency cannot be used together')
    expect(usage(() => parseLoadFlags({...base, rate: 100, stage: ['30s:100']}))).to.include('--stage and --rate')
    expect(usage(() => parseLoadFlags({...base, duration: '1m', stage: ['30s:100']}))).to.include('--stage and --duration')
    expect(usage(() => parseLoadFlags({...base, stage: ['0s:100']}))).to.include('every stage has a duration of 0')
    expect(usage(() => parseLoadFlags({...base, warmup: '10s'}))).to.include('--warmup needs a rate')
    expect(usage(() => parseLoadFlags({...base, rate: 100, warmup: '10s'}))).to.include('--warmup needs --duration or --stage')
    expect(usage(() => parseLoadFlags({...base, 'start-rate': '10'}))).to.include('--start-rate applies to --stage')
  })
})

describe('--header checks', () => {
  it('refuses control characters in a value and the headers logbench sets itself', () => {
    expect(parseHeader('X-Trace: abc')).to.deep.equal(['x-trace', 'abc'])
    for (const text of ['X-A: b\r\nX-B: c', 'X-A: b\u0000', 'Idempotency-Key: fixed', 'content-length: 5', 'Transfer-Encoding: chunked', 'Host: elsewhere']) {
      try {
        parseHeader(text)
        expect.fail(`accepted ${JSON.stringify(text)}`)
      } catch (error) {
        expect(error, text).to.be.instanceOf(LogbenchError)
        expect((error as LogbenchError).exitCode).to.equal(2)
      }
    }
  })
})
