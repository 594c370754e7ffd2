import {expect} from 'chai'
import {mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {decodeWorkerSettings, encodeWorkerSettings, type LoadFlagValues, parseLoadFlags} from '../../../../src/lib/load/settings.js'
import {expectUsageError} from '../../../helpers.js'

const flags: LoadFlagValues = {
  'batch-size': 1000,
  concurrency: 4,
  'max-in-flight': 128,
  retries: 5,
  seed: 1,
  target: 'http://127.0.0.1:4318',
  timeout: '30s',
  verify: true,
  'verify-wait': '0s',
}

describe('load/options: --protocol, its own flags and --template', () => {
  it('gives each protocol its default path on a bare origin and keeps a path given', () => {
    expect(parseLoadFlags({...flags, protocol: 'otlp'}).target?.href).to.equal('http://127.0.0.1:4318/v1/logs')
    expect(parseLoadFlags({...flags, protocol: 'loki'}).target?.pathname).to.equal('/loki/api/v1/push')
    expect(parseLoadFlags({...flags, protocol: 'elasticsearch'}).target?.pathname).to.equal('/_bulk')
    expect(parseLoadFlags(flags).target?.pathname).to.equal('/api/logs/batch')
    expect(parseLoadFlags({...flags, protocol: 'elasticsearch', target: 'http://es:9200/logs/_bulk'}).target?.pathname).to.equal('/logs/_bulk')
    expect(parseLoadFlags({...flags, protocol: 'otlp'}).protocol).to.deep.equal({encoding: 'protobuf', name: 'otlp'})
    expect(parseLoadFlags({...flags, 'otlp-encoding': 'json', protocol: 'otlp'}).protocol).to.deep.equal({encoding: 'json', name: 'otlp'})
    expect(parseLoadFlags({...flags, 'loki-shards': 8, protocol: 'loki'}).protocol).to.deep.equal({lokiShards: 8, name: 'loki'})
    expect(parseLoadFlags({...flags, 'es-index': 'logs-app-default', protocol: 'elasticsearch'}).protocol).to.deep.equal({index: 'logs-app-default', name: 'elasticsearch'})
    expect(parseLoadFlags(flags).protocol).to.deep.equal({name: 'json'})
  })

  it('refuses bad protocol flags as usage errors that name the flag', () => {
    expectUsageError(() => parseLoadFlags({...flags, protocol: 'syslog'}), /^--protocol syslog is not known/)
    expectUsageError(() => parseLoadFlags({...flags, 'otlp-encoding': 'json', protocol: 'loki'}), /^--otlp-encoding applies to --protocol otlp, not loki/)
    expectUsageError(() => parseLoadFlags({...flags, 'otlp-encoding': 'xml', protocol: 'otlp'}), /^--otlp-encoding xml is not known/)
    expectUsageError(() => parseLoadFlags({...flags, 'loki-shards': 4}), /^--loki-shards applies to --protocol loki, not json/)
    expectUsageError(() => parseLoadFlags({...flags, 'loki-shards': 0, protocol: 'loki'}), /^--loki-shards 0 is out of range/)
    expectUsageError(() => parseLoadFlags({...flags, 'es-index': 'x', protocol: 'otlp'}), /^--es-index applies to --protocol elasticsearch/)
    expectUsageError(() => parseLoadFlags({...flags, 'es-index': 'Logs/x', protocol: 'elasticsearch'}), /^--es-index "Logs\/x" is not an index/)
    expectUsageError(() => parseLoadFlags({...flags, payload: 'ndjson', protocol: 'otlp'}), /^--payload applies to --protocol json, not otlp/)
    expectUsageError(() => parseLoadFlags({...flags, protocol: 'otlp', target: undefined}), /^--protocol otlp needs --target/)
  })

  it('reads --template once, refusing a missing or bad file naming it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'logbench-template-'))
    const good = path.join(dir, 'good.json')
    writeFileSync(good, '{"msg": "{{message}}", "n": "{{seq}}"}')
    const settings = parseLoadFlags({...flags, template: good})
    expect(settings.template?.placeholders).to.equal(2)
    expect(settings.template?.file).to.equal(good)
    const bad = path.join(dir, 'bad.json')
    writeFileSync(bad, '{\n  "msg": "{{mesage}}"\n}')
    expectUsageError(() => parseLoadFlags({...flags, template: bad}), /^--template .*bad\.json, line 2: unknown placeholder \{\{mesage\}\}/)
    expectUsageError(() => parseLoadFlags({...flags, template: path.join(dir, 'none.json')}), /^--template .*none\.json cannot be read \(ENOENT\)/)
  })

  it('hands the protocol and template to the workers of parallel, and they read them back the same', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'logbench-template-'))
    const file = path.join(dir, 't.json')
    writeFileSync(file, '{"m": "{{message}}"}')
    for (const extra of [
      {'otlp-encoding': 'json', protocol: 'otlp'},
      {'loki-shards': 3, protocol: 'loki'},
      {'es-index': 'logs-x', protocol: 'elasticsearch', template: file},
      {payload: 'ndjson', template: file},
    ] as Partial<LoadFlagValues>[]) {
      const settings = parseLoadFlags({...flags, ...extra})
      const back = decodeWorkerSettings(encodeWorkerSettings(settings))
      expect(back.protocol).to.deep.equal(settings.protocol)
      expect(back.payload).to.equal(settings.payload)
      expect(back.target?.href).to.equal(settings.target?.href)
      expect(back.template?.file).to.equal(settings.template?.file)
      expect(back.template?.parts).to.deep.equal(settings.template?.parts)
    }
  })
})
