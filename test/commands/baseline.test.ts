/** `logbench baseline set|list|delete`, on real runs recorded as the load commands record them. */
import {expect} from 'chai'
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {runCli, serverUrl, tempDir} from '../helpers.js'
import {recordInChild, runToFile} from '../lib/history/runs.js'
import {type Sink, startSink} from '../lib/load/sink.js'

const QUICK = ['--rate', '2000', '--batch-size', '50', '--duration', '1500ms', '--interval', '250ms']

describe('logbench baseline', function () {
  this.timeout(180_000)
  let sink: Sink
  let dir: string
  let cwd: string
  let first: string
  let second: string
  let ids: string[]

  before(async () => {
    sink = await startSink()
    dir = tempDir('logbench-baseline-')
    cwd = path.join(dir, 'work')
    first = path.join(dir, 'first.json')
    second = path.join(dir, 'second.json')
    await runToFile(sink.url, first, QUICK)
    await runToFile(sink.url, second, QUICK)
  })

  after(async () => {
    await sink.stop()
    rmSync(dir, {force: true, recursive: true})
  })

  it('names @last, @prev and run ids; lists them; moves and removes a name', async () => {
    const {outcomes} = await recordInChild(dir, `file:${path.join(cwd, '.logbench', 'history')}`, [{file: first}, {file: second}])
    ids = outcomes.map((o) => o.id!)
    // From the working directory, the default history is .logbench/history.
    mkdirSync(cwd, {recursive: true})
    const set = await runCli(['baseline', 'set', 'main', '@prev'], {cwd})
    expect(set.code, set.stderr).to.equal(0)
    expect(set.stdout).to.include(`baseline main → ${ids[0]}`)
    const json = JSON.parse((await runCli(['baseline', 'set', 'nightly', ids[1], '--json'], {cwd})).stdout)
    expect(json).to.include({id: ids[1], name: 'nightly'})
    expect(json.setAt).to.match(/^\d{4}-\d\d-\d\dT/)

    const list = await runCli(['baseline', 'list'], {cwd})
    expect(list.code, list.stderr).to.equal(0)
    expect(list.stdout).to.match(new RegExp(`main\\s+│\\s+${ids[0]}`)).and.match(new RegExp(`nightly\\s+│\\s+${ids[1]}`))
    // runs shows which run a baseline names.
    expect((await runCli(['runs'], {cwd})).stdout).to.include('baseline:main')

    expect((await runCli(['baseline', 'set', 'main', '@last'], {cwd})).code).to.equal(0)
    const moved = JSON.parse((await runCli(['baseline', 'list', '--json'], {cwd})).stdout)
    expect(moved.baselines.map((b: {name: string; id: string}) => [b.name, b.id])).to.deep.equal([
      ['main', ids[1]],
      ['nightly', ids[1]],
    ])
    const removed = await runCli(['baseline', 'delete', 'nightly'], {cwd})
    expect(removed.code, removed.stderr).to.equal(0)
    const again = await runCli(['baseline', 'delete', 'nightly'], {cwd})
    expect(again.code).to.equal(2)
    expect(again.stderr).to.include('no baseline "nightly"')
  })

  it('records a result file it is given, once however often', async () => {
    const fresh = path.join(dir, 'fresh')
    mkdirSync(fresh)
    const set = await runCli(['baseline', 'set', 'main', first, '--json'], {cwd: fresh})
    expect(set.code, set.stderr).to.equal(0)
    const again = await runCli(['baseline', 'set', 'release', first, '--json'], {cwd: fresh})
    expect(JSON.parse(again.stdout).id).to.equal(JSON.parse(set.stdout).id)
    expect(readdirSync(path.join(fresh, '.logbench', 'history', 'runs'))).to.have.length(1)
    const runs = JSON.parse((await runCli(['runs', '--json'], {cwd: fresh})).stdout).runs
    expect(runs.map((r: {command: string; host: unknown}) => [r.command, r.host])).to.deep.equal([['import', null]])
  })

  it('refuses an unknown run, a file that is not a result and a bad name (exit 2)', async () => {
    const empty = path.join(dir, 'empty')
    mkdirSync(empty)
    const unknown = await runCli(['baseline', 'set', 'main', 'run-nope'], {cwd: empty})
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.include('no run "run-nope" in the history')
    const last = await runCli(['baseline', 'set', 'main', '@last'], {cwd: empty})
    expect(last.code).to.equal(2)
    expect(last.stderr).to.include('@last needs 1 recorded run')
    writeFileSync(path.join(empty, 'other.json'), '{"hello": 1}')
    const other = await runCli(['baseline', 'set', 'main', 'other.json'], {cwd: empty})
    expect(other.code).to.equal(2)
    expect(other.stderr).to.include('other.json is not a logbench result')
    const name = await runCli(['baseline', 'set', '../up', first], {cwd: empty})
    expect(name.code).to.equal(2)
    expect(name.stderr).to.include('baseline name "../up" is not valid')
  })

  it('keeps baselines in a shared ClickHouse history (18.16 here)', async function () {
    const url = serverUrl()
    if (!url) {
      if (process.env.CI === 'true') throw new Error('no ClickHouse server under CI=true')
      this.skip()
    }

    const set = await runCli(['baseline', 'set', 'shared-main', second, '--history-url', url, '--json'], {cwd: dir})
    expect(set.code, set.stderr).to.equal(0)
    const list = JSON.parse((await runCli(['baseline', 'list', '--json'], {cwd: dir, env: {LOGBENCH_HISTORY_URL: url}})).stdout)
    expect(list.history).to.include('database logbench')
    expect(list.baselines.find((b: {name: string}) => b.name === 'shared-main').id).to.equal(JSON.parse(set.stdout).id)
  })
})
