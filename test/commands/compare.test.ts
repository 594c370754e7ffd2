/**
 * `logbench compare` as a command: references, exit codes, --json, markdown,
 * several runs a side, differences. The inputs are result documents of known
 * difference built from a seeded source (test/lib/history/docs.ts), so every
 * verdict is known beforehand; test/e2e/compare-targets.test.ts compares real
 * runs against test targets.
 */
import {expect} from 'chai'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCli, tempDir} from '../helpers.js'
import {around, capacityResult, syntheticRun} from '../lib/history/docs.js'
import {recordInChild} from '../lib/history/runs.js'

describe('logbench compare', function () {
  this.timeout(120_000)
  let dir: string
  const file = (name: string, doc: unknown) => {
    const target = path.join(dir, name)
    writeFileSync(target, JSON.stringify(doc))
    return target
  }

  let base: string
  let same: string
  let slow: string

  before(() => {
    dir = tempDir('logbench-compare-cmd-')
    base = file('base.json', syntheticRun({latency: around(20), runId: 'run-base', seed: 1}))
    same = file('same.json', syntheticRun({latency: around(20), runId: 'run-same', seed: 2}))
    slow = file('slow.json', syntheticRun({config: {batchSize: 500}, latency: around(40), runId: 'run-slow', seed: 3}))
  })

  after(() => rmSync(dir, {force: true, recursive: true}))

  it('--json: metrics with base, contender, change, CI, p-value and verdict; differences; regressions; exit 0 without --fail-on', async () => {
    // Named as typed: relative to the working directory.
    const result = await runCli(['compare', 'base.json', 'slow.json', '--json'], {cwd: dir})
    expect(result.code, result.stderr).to.equal(0)
    const json = JSON.parse(result.stdout)
    expect(json.metrics.map((m: {name: string}) => m.name)).to.deep.equal(['throughput', 'p50', 'p90', 'p99', 'p99.9', 'error_rate'])
    const p99 = json.metrics.find((m: {name: string}) => m.name === 'p99')
    expect(Object.keys(p99)).to.include.members(['name', 'base', 'contender', 'changePercent', 'ci', 'pValue', 'verdict'])
    expect(p99.verdict).to.equal('regressed')
    expect(p99.changePercent).to.be.within(90, 110)
    expect(p99.ci).to.have.length(2)
    expect(p99.ci[0]).to.be.above(50)
    expect(p99.pValue).to.be.below(0.05)
    expect(json.differences).to.deep.equal([{base: '100', contender: '500', field: 'batch size'}])
    expect(json.regressions).to.deep.equal([])
    expect(json.mode).to.equal('intervals')
    expect(json.base.samples).to.deep.include({n: 18, unit: 'intervals'})
    expect(json.base.runs[0]).to.include({label: 'base.json', runId: 'run-base', source: 'file'})
    expect(result.stderr).to.include('warning: the runs were set up differently: batch size (100 → 500)')
  })

  it('--fail-on: exits 4 on a significant regression beyond the limit, 0 within it', async () => {
    const failed = await runCli(['compare', base, slow, '--fail-on', 'p99:+25%', '--fail-on', 'throughput:-5%'], {cwd: dir})
    expect(failed.code, failed.stderr).to.equal(4)
    expect(failed.stdout).to.match(/FAIL: p99 \+\d+(\.\d)?% breaks --fail-on p99:\+25%/)
    expect(failed.stdout).to.match(/p99 \(ms\)\s+│\s+[\d.]+\s+│\s+[\d.]+\s+│\s+\+\d+/)
    const json = JSON.parse((await runCli(['compare', base, slow, '--fail-on', 'p99:+25%', '--json'], {cwd: dir})).stdout)
    expect(json.regressions).to.have.length(1)
    expect(json.regressions[0]).to.include({gate: 'p99:+25%', limitPercent: 25, metric: 'p99'})
    const within = await runCli(['compare', base, slow, '--fail-on', 'p99:+150%'], {cwd: dir})
    expect(within.code, within.stderr).to.equal(0)
    const sameTarget = await runCli(['compare', base, same, '--fail-on', 'p99:+1%', '--fail-on', 'throughput:-1%'], {cwd: dir})
    expect(sameTarget.code, sameTarget.stdout).to.equal(0)
    expect(sameTarget.stdout).to.not.match(/regressed|improved/)
    expect(sameTarget.stdout).to.match(/p99 \(ms\).*│ ~\s+│/)
  })

  it('--format markdown: a table for a CI job summary, the differences and failures above it', async () => {
    const result = await runCli(['compare', 'base.json', 'slow.json', '--format', 'markdown', '--fail-on', 'p99:+25%'], {cwd: dir})
    expect(result.code).to.equal(4)
    const lines = result.stdout.split('\n')
    expect(lines[0]).to.equal("### logbench compare: `base.json` → `slow.json`")
    expect(result.stdout).to.include('**Failed:** p99 +')
    expect(result.stdout).to.include('> [!WARNING]\n> The runs were set up differently (compared all the same):\n> - batch size: 100 → 500')
    const header = lines.indexOf('| metric | base | contender | change | 95% CI | p | verdict |')
    expect(header).to.be.greaterThan(0)
    expect(lines[header + 1]).to.equal('|---|--:|--:|--:|:-:|--:|---|')
    const rows = lines.slice(header + 2, header + 8)
    expect(rows.map((r) => r.split('|')[1].trim())).to.deep.equal(['throughput (logs/s)', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'error rate'])
    expect(rows[3]).to.match(/^\| p99 \(ms\) \| [\d.]+ \| [\d.]+ \| \+\d+(\.\d)?% \| \+[\d.]+% … \+[\d.]+% \| <0\.001 \| \*\*regressed\*\* :red_circle: \|$/)
    expect(rows[0]).to.match(/\| ~ \|$/)
    expect(result.stdout).to.match(/<sub>18 steady intervals in the base \(worth [\d.]+ independent\)/)
  })

  it('several runs a side, separated by commas: run-level figures', async () => {
    const side = (prefix: string, ms: number, first: number) => Array.from({length: 4}, (_, i) => file(`${prefix}${i}.json`, syntheticRun({latency: around(ms), runId: `run-${prefix}${i}`, seed: first + i})))
    const a = side('a', 20, 10)
    const b = side('b', 30, 20)
    const json = JSON.parse((await runCli(['compare', a.join(','), b.join(','), '--json'], {cwd: dir})).stdout)
    expect(json.mode).to.equal('runs')
    expect(json.base.samples).to.deep.equal({effective: 4, n: 4, unit: 'runs'})
    expect(json.base.runs).to.have.length(4)
    expect(json.metrics.find((m: {name: string}) => m.name === 'p50').verdict).to.equal('regressed')
    expect(json.metrics.find((m: {name: string}) => m.name === 'throughput').verdict).to.equal('no change')
  })

  it('compares capacity results by their maximum', async () => {
    const high = file('cap-high.json', capacityResult(10_000, [[10_000, 'pass'], [10_400, 'fail']]))
    const low = file('cap-low.json', capacityResult(6000, [[6000, 'pass'], [6250, 'fail']]))
    const result = await runCli(['compare', high, low, '--fail-on', 'max_sustainable:-10%', '--json'], {cwd: dir})
    expect(result.code, result.stderr).to.equal(4)
    const json = JSON.parse(result.stdout)
    expect(json.metrics).to.have.length(1)
    expect(json.metrics[0]).to.include({base: 10_000, contender: 6000, name: 'max_sustainable', verdict: 'regressed'})
  })

  it('compare @prev @last, run ids and baseline:NAME from the history', async () => {
    const cwd = path.join(dir, 'work')
    mkdirSync(cwd)
    const {outcomes} = await recordInChild(cwd, '', [{file: base}, {file: slow}])
    expect(outcomes.map((o) => o.id)).to.deep.equal(['run-base', 'run-slow'])
    const json = JSON.parse((await runCli(['compare', '@prev', '@last', '--json'], {cwd})).stdout)
    expect(json.base.runs[0]).to.include({label: 'run-base', ref: '@prev', source: 'history'})
    expect(json.contender.runs[0]).to.include({label: 'run-slow', ref: '@last', source: 'history'})
    expect(json.metrics.find((m: {name: string}) => m.name === 'p99').verdict).to.equal('regressed')
    expect((await runCli(['baseline', 'set', 'main', 'run-base'], {cwd})).code).to.equal(0)
    const gate = await runCli(['compare', 'baseline:main', 'run-slow', '--fail-on', 'p99:+25%'], {cwd})
    expect(gate.code, gate.stderr).to.equal(4)
    expect(gate.stdout).to.include('run-base (history; run')
  })

  it('report --compare writes the comparison page; two results without --compare, or --compare with one, exit 2', async () => {
    const html = path.join(dir, 'cmp.html')
    const written = await runCli(['report', '--compare', 'base.json', 'slow.json', '-o', html, '--json'], {cwd: dir})
    expect(written.code, written.stderr).to.equal(0)
    expect(JSON.parse(written.stdout)).to.deep.equal({file: html, kind: 'compare', runId: 'base.json → slow.json'})
    const page = readFileSync(html, 'utf8')
    expect(page).to.include('<tr data-metric="p99" data-verdict="regressed">').and.include('data-chart="compare-throughput"').and.include('data-chart="compare-p99"')
    expect(page).to.include('batch size: 100 → 500')
    const two = await runCli(['report', 'base.json', 'slow.json'], {cwd: dir})
    expect(two.code).to.equal(2)
    expect(two.stderr).to.include('report takes one result, or two with --compare')
    const one = await runCli(['report', '--compare', 'base.json'], {cwd: dir})
    expect(one.code).to.equal(2)
    expect(one.stderr).to.include('report --compare needs a base and a contender')
  })

  it('exits 2 naming an unknown run id, a file that is not a result, an unknown metric in --fail-on', async () => {
    const cwd = path.join(dir, 'empty')
    mkdirSync(cwd)
    const unknown = await runCli(['compare', 'run-nope', base], {cwd})
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.include('no run "run-nope" in the history')
    writeFileSync(path.join(cwd, 'notes.json'), '{"notes": []}')
    const notResult = await runCli(['compare', 'notes.json', base, '--json'], {cwd})
    expect(notResult.code).to.equal(2)
    expect(JSON.parse(notResult.stdout).error.message).to.equal('notes.json is not a logbench result')
    const metric = await runCli(['compare', base, same, '--fail-on', 'latency:+10%'], {cwd})
    expect(metric.code).to.equal(2)
    expect(metric.stderr).to.include('--fail-on "latency:+10%": unknown metric "latency"')
    const missing = await runCli(['compare', 'missing/result.json', base], {cwd})
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.include('cannot read missing/result.json')
    const prev = await runCli(['compare', '@prev', '@last'], {cwd})
    expect(prev.code).to.equal(2)
    expect(prev.stderr).to.include('@prev needs 2 recorded runs')
  })
})
