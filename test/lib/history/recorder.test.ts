import {expect} from 'chai'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {recordRun} from '../../../src/lib/history/record/recorder.js'
import {FileHistory} from '../../../src/lib/history/store/file.js'
import {repoRoot, serverUrl, tempDir} from '../../helpers.js'
import {syntheticRun} from './docs.js'

const host = {cores: 2, cpuModel: 'Test CPU', name: 'test-host', node: 'v24.0.0', platform: 'linux-x64'}

describe('recordRun', () => {
  let cwd: string
  let warnings: string[]
  const base = () => ({
    argv: ['--target', 'http://u:secret@127.0.0.1:3000', '--tag', 'branch=main'],
    command: 'run',
    cwd,
    exitCode: 0,
    git: async () => ({commit: 'c'.repeat(40), dirty: true}),
    host,
    logbenchVersion: '0.1.0',
    result: syntheticRun({runId: 'run-rec', seed: 1}),
    tags: {branch: 'main'},
    warn: (line: string) => warnings.push(line),
  })

  beforeEach(() => {
    cwd = tempDir('logbench-recorder-')
    warnings = []
  })

  afterEach(() => rmSync(cwd, {force: true, recursive: true}))

  it('records the whole result under .logbench/history of the working directory, without secrets', async () => {
    const outcome = await recordRun(base())
    expect(outcome).to.deep.equal({id: 'run-rec', location: path.join(cwd, '.logbench', 'history'), recorded: true})
    expect(warnings).to.deep.equal([])
    const text = readFileSync(path.join(cwd, '.logbench', 'history', 'runs', 'run-rec.json'), 'utf8')
    expect(text).to.not.include('secret')
    const record = await new FileHistory(path.join(cwd, '.logbench', 'history')).get('run-rec')
    expect(record!.git).to.deep.equal({commit: 'c'.repeat(40), dirty: true})
    expect(record!.tags).to.deep.equal({branch: 'main'})
    expect(record!.host).to.deep.equal(host)
    expect(record!.command).to.equal('run')
    expect(record!.exitCode).to.equal(0)
    expect(record!.result.runId).to.equal('run-rec')
  })

  it('reads the host and the git commit of the working directory when not given them', async () => {
    const {git: _git, host: _host, ...options} = base()
    const outcome = await recordRun({...options, cwd: repoRoot, historyUrl: `file:${path.join(cwd, 'h')}`})
    expect(outcome.recorded, warnings.join('\n')).to.equal(true)
    const record = await new FileHistory(path.join(cwd, 'h')).get('run-rec')
    // The repository is a git working tree.
    expect(record!.git!.commit).to.match(/^[0-9a-f]{40}$/)
    expect(record!.host.cores).to.be.greaterThan(0)
    expect(record!.host.cpuModel).to.be.a('string').and.not.equal('')
    // Outside a working tree: no commit.
    await recordRun({...options, historyUrl: 'file:h2'})
    expect((await new FileHistory(path.join(cwd, 'h2')).get('run-rec'))!.git).to.equal(null)
  })

  it('never throws: an unwritable history, an unreachable server, a bad URL or result, a failing warn all resolve with a warning', async () => {
    // .logbench is a file, so nothing can be created below it.
    writeFileSync(path.join(cwd, '.logbench'), 'not a directory')
    const unwritable = await recordRun(base())
    expect(unwritable.recorded).to.equal(false)
    expect(warnings[0]).to.match(/^the run was not recorded in the history: cannot write the run history in .*\.logbench\/history/)

    const down = await recordRun({...base(), historyUrl: 'http://127.0.0.1:1'})
    expect(down.recorded).to.equal(false)
    expect(warnings[1]).to.match(/ClickHouse at http:\/\/127\.0\.0\.1:1.*ECONNREFUSED/)

    expect((await recordRun({...base(), historyUrl: 'ftp://x'})).recorded).to.equal(false)
    expect(warnings[2], warnings.join("\n")).to.match(/--history-url "ftp:\/\/x" is not a history location/)

    expect((await recordRun({...base(), result: {kind: 'run'}})).recorded).to.equal(false)
    expect(warnings[3]).to.match(/not a logbench result/)

    const quiet = await recordRun({...base(), warn: () => { throw new Error('stderr closed') }})
    expect(quiet.recorded).to.equal(false)

    expect((await recordRun({...base(), clickhouse: {table: 'logbench.runs', version: '24.8'}, historyUrl: 'file:elsewhere'})).recorded).to.equal(false)
    expect(warnings[4]).to.match(/the table under test, logbench\.runs, is one of the history's own tables/)
  })

  it('records into ClickHouse with --history-url', async function () {
    const url = serverUrl()
    if (!url) {
      if (process.env.CI === 'true') throw new Error('no ClickHouse server under CI=true')
      this.skip()
    }

    mkdirSync(path.join(cwd, 'x'))
    const outcome = await recordRun({...base(), historyUrl: url})
    expect(outcome.recorded, warnings.join('\n')).to.equal(true)
    expect(outcome).to.include({location: `ClickHouse at ${url}, database logbench`})
  })
})
