/**
 * run, parallel and merge speaking the push protocols, as a user starts them:
 * the built CLI against the test receivers.
 */
import {expect} from 'chai'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCli, tempDir} from '../helpers.js'
import {type Receiver, startReceiver} from '../fixtures/receivers/receiver.js'

describe('logbench run / parallel / merge --protocol', () => {
  let dir: string
  let otlp: Receiver
  let loki: Receiver

  before(async () => {
    dir = tempDir('logbench-protocols-')
    otlp = await startReceiver({decide: (seq) => (seq % 50 === 49 ? 'reject' : 'ok'), protocol: 'otlp'})
    loki = await startReceiver({protocol: 'loki'})
  })

  after(async () => {
    await otlp.stop()
    await loki.stop()
    rmSync(dir, {force: true, recursive: true})
  })

  it('run --protocol otlp: posts protobuf to /v1/logs of a bare origin and reports the rejected records by class', async () => {
    const result = await runCli(['run', '--protocol', 'otlp', '--target', otlp.url, '--logs', '5000', '--batch-size', '500', '--json', '--no-verify'])
    expect(result.code, result.stderr).to.equal(0)
    const json = JSON.parse(result.stdout)
    expect(json.config.target).to.equal(`${otlp.url}/v1/logs`)
    expect(json.config.protocol).to.deep.equal({encoding: 'protobuf', name: 'otlp'})
    expect(json.logs).to.deep.equal({acked: 4900, failed: 100, sent: 5000})
    expect(json.errors.logsByClass).to.deep.equal({partial: 100})
    expect(json.errors.logsByKind).to.deep.equal({rejected: 100})
    expect(otlp.requests.every((r) => r.contentType === 'application/x-protobuf')).to.equal(true)
    const human = await runCli(['run', '--protocol', 'otlp', '--otlp-encoding', 'json', '--target', otlp.url, '--logs', '1000', '--batch-size', '500', '--no-verify'])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.match(/OTLP\/HTTP logs, json/)
    expect(human.stdout).to.match(/partial\s+│ rejected\s+│\s+20\s+│\s+0\s+│\s+0\s+│ 10 of 500 log records rejected/)
  })

  it('parallel --protocol loki with a template: the workers speak it, and merge carries the protocol in its config', async () => {
    const template = path.join(dir, 'entry.json')
    writeFileSync(template, '{"ts": "{{timestamp:ms}}", "svc": "{{app}}", "lvl": "{{level}}", "msg": "{{message}}", "trace": {"run_id": "{{run_id}}", "seq": "{{seq}}"}}')
    const result = await runCli(['parallel', '--workers', '2', '--logs', '4000', '--protocol', 'loki', '--loki-shards', '2', '--template', template, '--target', loki.url, '--no-verify', '--json'])
    expect(result.code, result.stderr).to.equal(0)
    const json = JSON.parse(result.stdout)
    expect(json.logs).to.deep.equal({acked: 4000, failed: 0, sent: 4000})
    expect(json.config.protocol).to.deep.equal({lokiShards: 2, name: 'loki'})
    expect(json.config.template).to.equal(template)
    expect(loki.records).to.have.length(4000)
    const entry = loki.records[0].entry!
    expect(Object.keys(entry)).to.deep.equal(['ts', 'svc', 'lvl', 'msg', 'trace'])
    expect(entry.svc).to.equal(loki.records[0].labels!.app)
    const file = path.join(dir, 'parallel.json')
    writeFileSync(file, result.stdout)
    const merged = await runCli(['merge', file, '--json'])
    expect(merged.code, merged.stderr).to.equal(0)
    expect(JSON.parse(merged.stdout).config.protocol).to.deep.equal({lokiShards: 2, name: 'loki'})
  })

  it('bad protocol flags and bad templates exit 2 naming the flag, the line and the placeholder', async () => {
    const cases: [string[], RegExp][] = [
      [['--protocol', 'syslog'], /--protocol syslog is not known/],
      [['--protocol', 'loki', '--otlp-encoding', 'json'], /--otlp-encoding applies to --protocol otlp, not loki/],
      [['--protocol', 'otlp', '--payload', 'ndjson'], /--payload applies to --protocol json, not otlp/],
    ]
    const bad = path.join(dir, 'bad.json')
    writeFileSync(bad, '{\n  "a": "{{app}}",\n  "b": "{{host}}"\n}')
    cases.push([['--template', bad], /--template .*bad\.json, line 3: unknown placeholder \{\{host\}\}/])
    const broken = path.join(dir, 'broken.json')
    writeFileSync(broken, '{\n  "a": "{{app}}"\n  "b": 1\n}')
    cases.push([['--template', broken], /--template .*broken\.json is not JSON, line 3 column 3/])
    for (const [args, pattern] of cases) {
      const result = await runCli(['run', '--target', otlp.url, '--logs', '10', ...args])
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2)
      expect(result.stderr).to.match(pattern)
    }
  })
})
