import {expect} from 'chai'
import {createHash} from 'node:crypto'

import {parseTemplate} from '../../../../src/lib/load/generate/body-template.js'
import {ByteWriter} from '../../../../src/lib/format/byte-writer.js'
import {DEFAULT_APPS, LogSynth} from '../../../../src/lib/load/generate/synth.js'
import {LEVELS} from '../../../../src/lib/store/index.js'
import {expectUsageError} from '../../../helpers.js'

const T0 = Date.parse('2025-01-02T03:04:05.678Z')

const GUIDE = `{
  "app_id": "{{app}}",
  "level": "{{level}}",
  "message": "{{message}}",
  "source": "{{source}}",
  "created": {"iso": "{{timestamp}}", "ms": "{{timestamp:ms}}", "s": "{{timestamp:s}}", "ns": "{{timestamp:ns}}"},
  "metadata": {"run_id": "{{run_id}}", "seq": "{{seq}}", "user": "user-{{id:50}}", "tags": ["load", "{{app}}/{{level}}"]},
  "team": "checkout \\"core\\" – ü",
  "version": 3,
  "sampled": true,
  "parent": null
}`

describe('load/generate/template', () => {
  it('writes the field names and nesting as written, placeholders filled and static fields kept', () => {
    const template = parseTemplate(GUIDE, 'guide.json')
    const synth = new LogSynth({runId: 'run-t', seed: 11, template})
    const reference = new LogSynth({runId: 'run-t', seed: 11})
    const apps = new Set(DEFAULT_APPS.map(({name}) => name))
    const users = new Set<string>()
    for (let seq = 0; seq < 3000; seq++) {
      const entry = JSON.parse(synth.log(seq, T0))
      expect(Object.keys(entry)).to.deep.equal(['app_id', 'level', 'message', 'source', 'created', 'metadata', 'team', 'version', 'sampled', 'parent'])
      expect(apps.has(entry.app_id)).to.equal(true)
      expect(LEVELS).to.include(entry.level)
      expect(entry.created).to.deep.equal({iso: '2025-01-02T03:04:05.678Z', ms: T0, ns: 1_735_787_045_678_000_000, s: 1_735_787_045})
      expect(entry.metadata.run_id).to.equal('run-t')
      expect(entry.metadata.seq).to.equal(seq)
      expect(entry.metadata.user).to.match(/^user-[0-9a-f]{16}$/)
      expect(entry.metadata.tags).to.deep.equal(['load', `${entry.app_id}/${entry.level}`])
      expect(entry).to.include({parent: null, sampled: true, team: 'checkout "core" – ü', version: 3})
      users.add(entry.metadata.user)
      // App, level, message and source are drawn as the default shape draws them.
      const plain = JSON.parse(reference.log(seq, T0))
      expect([entry.app_id, entry.level, entry.message, entry.source]).to.deep.equal([plain.app_id, plain.level, plain.message, plain.source])
    }

    expect(users.size).to.equal(50)
    // ns stays exact as text.
    expect(synth.log(0, T0)).to.include('"ns":1735787045678000000')
  })

  it('gives the same bytes for the same seed, in every --payload envelope', () => {
    const template = parseTemplate(GUIDE, 'guide.json')
    const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')
    for (const payload of ['array', 'wrapped', 'ndjson'] as const) {
      const a = new LogSynth({runId: 'r', seed: 5, template})
      const b = new LogSynth({runId: 'r', seed: 5, template: parseTemplate(GUIDE, 'again.json')})
      const out = new ByteWriter(64)
      const first = sha(a.batch(0, 1, 1000, payload, T0, out))
      b.batch(1000, 1, 1000, payload, T0)
      expect(sha(b.batch(0, 1, 1000, payload, T0))).to.equal(first)
      expect(sha(new LogSynth({runId: 'r', seed: 6, template}).batch(0, 1, 1000, payload, T0))).not.to.equal(first)
    }

    const synth = new LogSynth({runId: 'r', seed: 5, template})
    expect(JSON.parse(synth.batch(0, 1, 3, 'wrapped', T0).toString()).logs).to.have.length(3)
    expect(synth.batch(0, 1, 3, 'ndjson', T0).toString().trim().split('\n').map((line) => JSON.parse(line).metadata.seq)).to.deep.equal([0, 1, 2])
  })

  it('refuses bad JSON and unknown placeholders as usage errors naming the line and the placeholder', () => {
    expectUsageError(() => parseTemplate('{\n  "a": "{{app}}",\n  "b": \n}', 'bad.json'), /^--template bad\.json is not JSON, line 4 column 1: /)
    expectUsageError(() => parseTemplate('{\n  "a": "{{app}}",\n  "b": "{{hostname}}"\n}', 't.json'), /^--template t\.json, line 3: unknown placeholder \{\{hostname\}\}/)
    expectUsageError(() => parseTemplate('{"t": "{{timestamp:us}}"}', 't.json'), /line 1: \{\{timestamp:us\}\}: the timestamp format is iso, ms, s or ns/)
    expectUsageError(() => parseTemplate('{"u": "{{id}}"}', 't.json'), /\{\{id\}\}: give the number of distinct ids/)
    expectUsageError(() => parseTemplate('{"u": "{{id:0}}"}', 't.json'), /\{\{id:0\}\}/)
    expectUsageError(() => parseTemplate('{"u": "{{app:x}}"}', 't.json'), /app takes no argument/)
    expectUsageError(() => parseTemplate('["{{app}}"]', 't.json'), /must be one JSON object/)
    expectUsageError(() => parseTemplate('{\n"{{app}}": 1}', 't.json'), /line 2: the key "\{\{app\}\}" holds a placeholder/)
  })

  it('keeps messages with stack traces valid JSON inside a template', () => {
    const template = parseTemplate('{"m": "[{{level}}] {{message}}"}', 't.json')
    const synth = new LogSynth({errorRate: 0.5, runId: 'r', seed: 2, template})
    const entries = synth.batch(0, 1, 2000, 'ndjson', T0).toString().trim().split('\n').map((line) => JSON.parse(line))
    expect(entries.some((entry) => entry.m.includes('\n    at '))).to.equal(true)
  })
})
