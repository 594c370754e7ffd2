import {expect} from 'chai'

import {baseRecordId, buildRecord, candidateId, configSummary, parseTags, runSummary} from '../../../src/lib/history/record/record.js'
import {redactArgv, redactUrl} from '../../../src/lib/history/record/redact.js'
import {parseResultText} from '../../../src/lib/history/document.js'
import {expectUsageError} from '../../helpers.js'
import {capacityResult, syntheticRun} from './docs.js'

const host = {cores: 2, cpuModel: 'Test CPU', name: 'test-host', node: 'v24.0.0', platform: 'linux-x64'}
const now = new Date('2025-03-02T08:00:00.000Z')

describe('history records', () => {
  it('never keep a secret: passwords, tokens, header values, credentials in URLs', () => {
    const argv = [
      'run',
      '--target',
      'https://user:pw@api.example/logs?api_key=abc&tenant=t1',
      '--header',
      'Authorization: Bearer s3cret',
      '--header=X-Api-Key: k',
      '--clickhouse-password',
      'hunter2',
      '--clickhouse-password=hunter3',
      '--clickhouse-url=http://default:pass@127.0.0.1:8123',
      '--history-url',
      'http://u:p@history:8123',
      '--logs',
      '1000',
    ]
    const redacted = redactArgv(argv)
    expect(redacted.join(' ')).to.not.match(/pw|abc|s3cret|X-Api-Key: k|hunter|pass@|u:p@/)
    expect(redacted).to.deep.equal([
      'run',
      '--target',
      'https://api.example/logs?api_key=***&tenant=t1',
      '--header',
      'Authorization: ***',
      '--header=X-Api-Key: ***',
      '--clickhouse-password',
      '***',
      '--clickhouse-password=***',
      '--clickhouse-url=http://127.0.0.1:8123/',
      '--history-url',
      'http://history:8123/',
      '--logs',
      '1000',
    ])
    expect(redactUrl('not a url')).to.equal('not a url')
  })

  it('parse --tag key=value, refusing what is not one', () => {
    expect(parseTags(['branch=main', 'commit=abc=def', 'empty='])).to.deep.equal({branch: 'main', commit: 'abc=def', empty: ''})
    expect(parseTags(undefined)).to.deep.equal({})
    expectUsageError(() => parseTags(['branch']), /--tag "branch" is not key=value/)
    expectUsageError(() => parseTags(['=x']), /not key=value/)
    expectUsageError(() => parseTags(['a b=c']), /not key=value/)
  })

  it('hold the whole result, its configuration and headline figures, and what surrounds it', () => {
    const result = syntheticRun({seed: 1, verification: {missing: 3, ok: false, pollMs: 100, readBackDelayMs: null, store: 'x'}})
    const record = buildRecord({
      argv: ['run', '--tag', 'branch=main'],
      clickhouse: {table: 'logs_db.logs', version: '18.16.1'},
      command: 'run',
      exitCode: 4,
      git: {commit: 'a'.repeat(40), dirty: false},
      host,
      logbenchVersion: '0.1.0',
      now,
      result,
      tags: {branch: 'main'},
    })
    expect(record.format).to.equal(1)
    expect(record.id).to.equal('run-synthetic-1')
    expect(record.runId).to.equal('run-synthetic-1')
    expect(record.result).to.equal(result)
    expect(record.recordedAt).to.equal(now.toISOString())
    expect(record.startedAt).to.equal(result.startedAt)
    expect(record.clickhouse).to.deep.equal({table: 'logs_db.logs', version: '18.16.1'})
    expect(record.summary).to.include({lost: 3, verification: 'failed'})
    expect(record.summary.throughputLogsPerSecond).to.equal(result.throughput.logsPerSecond)
    expect(record.summary.p99Ms).to.equal(result.latency.p99Ms)
    expect(record.config).to.include({batchSize: 100, model: 'closed', protocol: 'json (array)', workers: 1})
    expect(record.exitCode).to.equal(4)
  })

  it('summarise capacity results by their maximum', () => {
    const doc = capacityResult(12_000, [[12_000, 'pass'], [12_500, 'fail']])
    expect(runSummary(doc).maxSustainableLogsPerSecond).to.equal(12_000)
    expect(configSummary(doc)).to.include({batchSize: 1000, workers: 2})
  })

  it('take the run id as their id, with the worker for one worker of several, made unique by a suffix', () => {
    expect(baseRecordId(syntheticRun({runId: 'run-1', seed: 1}), now)).to.equal('run-1')
    expect(baseRecordId(syntheticRun({config: {worker: {count: 8, index: 3}}, runId: 'run-1', seed: 1}), now)).to.equal('run-1.w3')
    expect(baseRecordId(syntheticRun({kind: 'merge', runId: 'run-a,run-b', seed: 1}), now)).to.equal('run-a_run-b')
    expect(baseRecordId({...capacityResult(1, []), runId: undefined}, now)).to.equal('capacity-20250302-080000')
    expect([1, 2, 3].map((n) => candidateId('run-1', n))).to.deep.equal(['run-1', 'run-1-2', 'run-1-3'])
  })

  it('read result files, and refuse what is not a result', () => {
    const text = JSON.stringify(syntheticRun({seed: 1}))
    expect(parseResultText(text, 'r.json').kind).to.equal('run')
    expect(parseResultText(JSON.stringify(capacityResult(5, [])), 'c.json').kind).to.equal('capacity')
    expectUsageError(() => parseResultText('{"a":1}', 'x.json'), /x\.json is not a logbench result/)
    expectUsageError(() => parseResultText('nope', 'x.json'), /x\.json is not JSON/)
    expectUsageError(() => parseResultText('{"error":{"message":"boom"}}', 'x.json'), /x\.json holds an error, not a result: "boom"/)
    expectUsageError(() => parseResultText('{"kind":"capacity"}', 'x.json'), /capacity result without maxSustainable/)
  })
})
