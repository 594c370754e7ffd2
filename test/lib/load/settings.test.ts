import {expect} from 'chai'

import {LogbenchError} from '../../../src/lib/errors.js'
import {type LoadFlagValues, newRunId, parseApps, parseHeader, parseLoadFlags, parseShare, withToken, workerRunArgs} from '../../../src/lib/load/settings.js'

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

  it('forwards the settings to workers as run arguments that parse back to the same settings', () => {
    const flags: LoadFlagValues = {
      ...defaults,
      apps: 'a:1,b:2',
      'batch-size': 500,
      duration: '5s',
      'error-rate': '0.1',
      header: ['X-A: 1'],
      payload: 'ndjson',
      'run-id': 'run-x',
      seed: 9,
      timeout: '2s',
    }
    const settings = parseLoadFlags(flags)
    const args = workerRunArgs(settings, new URL('http://127.0.0.1:1/api/logs/batch'))
    const value = (name: string) => args[args.indexOf(name) + 1]
    expect(value('--target')).to.equal('http://127.0.0.1:1/api/logs/batch')
    expect(value('--run-id')).to.equal('run-x')
    expect(value('--payload')).to.equal('ndjson')
    expect(value('--apps')).to.equal('a:1,b:2')
    expect(args).to.include('--no-verify')
    const back = parseLoadFlags({
      ...defaults,
      apps: value('--apps'),
      'batch-size': Number(value('--batch-size')),
      duration: value('--duration'),
      'error-rate': value('--error-rate'),
      header: [value('--header')],
      payload: value('--payload'),
      'run-id': value('--run-id'),
      seed: Number(value('--seed')),
      target: value('--target'),
      timeout: value('--timeout'),
    })
    for (const key of ['apps', 'batchSize', 'durationMs', 'errorRate', 'headers', 'payload', 'runId', 'seed', 'timeoutMs'] as const) {
      expect(back[key], key).to.deep.equal(settings[key])
    }
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
