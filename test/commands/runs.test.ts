/**
 * `logbench runs`: real runs (run --json against a test target), recorded as
 * the load commands record them, listed from files, from the suite's
 * ClickHouse 18.16 server and from the embedded engine.
 */
import {expect} from 'chai'
import {rmSync} from 'node:fs'
import path from 'node:path'

import {runCli, serverUrl, tempDir} from '../helpers.js'
import {recordInChild, runToFile} from '../lib/history/runs.js'
import {type Sink, startSink} from '../lib/load/sink.js'

const QUICK = ['--rate', '2000', '--batch-size', '50', '--duration', '1500ms', '--interval', '250ms']

describe('logbench runs', function () {
  this.timeout(180_000)
  let sink: Sink
  let dir: string
  const files: string[] = []
  const runIds: string[] = []

  before(async () => {
    sink = await startSink()
    dir = tempDir('logbench-runs-')
    for (let i = 0; i < 3; i++) {
      const file = path.join(dir, `run-${i}.json`)
      const result = await runToFile(sink.url, file, QUICK)
      files.push(file)
      runIds.push(result.runId as string)
    }
  })

  after(async () => {
    await sink.stop()
    rmSync(dir, {force: true, recursive: true})
  })

  const backends = [
    {name: 'files', url: () => ''},
    {name: 'ClickHouse server (18.16 here)', url: () => serverUrl()},
    {name: 'embedded engine', url: () => `embedded:${path.join(dir, 'history-engine')}`},
  ]

  for (const backend of backends) {
    it(`lists recorded runs newest first, with --limit and --tag, and as --json: ${backend.name}`, async function () {
      const url = backend.url()
      if (url === undefined) {
        if (process.env.CI === 'true') throw new Error('no ClickHouse server under CI=true')
        this.skip()
      }

      const cwd = tempDir('logbench-runs-cwd-')
      try {
        const history = url ? ['--history-url', url] : []
        // A shared history (the server's) may hold other runs: only these three are looked at.
        const tags = [{branch: 'main'}, {branch: 'pr-1'}, {branch: 'main', os: 'linux'}]
        const {outcomes, stderr} = await recordInChild(cwd, url, files.map((file, i) => ({file, tags: tags[i]})))
        expect(outcomes.map((o) => o.recorded), stderr).to.deep.equal([true, true, true])

        const listed = await runCli(['runs', ...history, '--json'], {cwd})
        expect(listed.code, listed.stderr).to.equal(0)
        const json = JSON.parse(listed.stdout) as {history: string; runs: {id: string; runId: string; command: string; summary: {throughputLogsPerSecond: number; p99Ms: number; verification: string}; tags: Record<string, string>; exitCode: number; host: {cores: number}; git: unknown}[]}
        const ours = json.runs.filter((r) => runIds.includes(r.runId))
        expect(ours.map((r) => r.runId)).to.deep.equal([...runIds].reverse())
        expect(json.history).to.be.a('string').and.not.equal('')
        for (const r of ours) {
          expect(r.command).to.equal('run')
          expect(r.exitCode).to.equal(0)
          expect(r.summary.throughputLogsPerSecond).to.be.greaterThan(0)
          expect(r.summary.p99Ms).to.be.greaterThan(0)
          expect(r.summary.verification).to.equal('not verified')
          expect(r.host.cores).to.be.greaterThan(0)
        }

        const tagged = JSON.parse((await runCli(['runs', ...history, '--json', '--tag', 'branch=main', '--limit', '100'], {cwd})).stdout)
        expect(tagged.runs.filter((r: {runId: string}) => runIds.includes(r.runId)).map((r: {runId: string}) => r.runId)).to.deep.equal([runIds[2], runIds[0]])
        if (backend.name === 'files') {
          const limited = JSON.parse((await runCli(['runs', ...history, '--json', '--limit', '1'], {cwd})).stdout)
          expect(limited.runs.map((r: {runId: string}) => r.runId)).to.deep.equal([runIds[2]])
          const both = JSON.parse((await runCli(['runs', ...history, '--json', '--tag', 'branch=main', '--tag', 'os=linux'], {cwd})).stdout)
          expect(both.runs.map((r: {runId: string}) => r.runId)).to.deep.equal([runIds[2]])
        }

        // For people: one row a run, its id, command, target, figures and tags.
        const human = await runCli(['runs', ...history, '--limit', '100'], {cwd})
        expect(human.code, human.stderr).to.equal(0)
        for (const id of runIds) expect(human.stdout).to.include(id)
        expect(human.stdout).to.match(/id\s+│\s+started \(UTC\)\s+│\s+command\s+│\s+target\s+│\s+logs\/s\s+│\s+p99 \(ms\)\s+│\s+verified\s+│\s+exit\s+│\s+tags/)
        expect(human.stdout).to.include('branch=main os=linux')
        expect(human.stdout).to.match(/runs? from .*newest first/)
      } finally {
        rmSync(cwd, {force: true, recursive: true})
      }
    })
  }

  it('with nothing recorded, says so; a bad --tag exits 2; a history that cannot be reached exits 3', async () => {
    const cwd = tempDir('logbench-runs-empty-')
    try {
      const empty = await runCli(['runs'], {cwd})
      expect(empty.code, empty.stderr).to.equal(0)
      expect(empty.stdout).to.include('no runs recorded yet')
      expect(JSON.parse((await runCli(['runs', '--json'], {cwd})).stdout).runs).to.deep.equal([])
      const badTag = await runCli(['runs', '--tag', 'nokey'], {cwd})
      expect(badTag.code).to.equal(2)
      expect(badTag.stderr).to.include('--tag "nokey" is not key=value')
      const badUrl = await runCli(['runs', '--history-url', 'ftp://x'], {cwd})
      expect(badUrl.code).to.equal(2)
      expect(badUrl.stderr).to.include('is not a history location')
      const down = await runCli(['runs', '--json'], {cwd, env: {LOGBENCH_HISTORY_URL: 'http://127.0.0.1:1'}})
      expect(down.code).to.equal(3)
      expect(JSON.parse(down.stdout).error.message).to.include('cannot reach ClickHouse at http://127.0.0.1:1')
    } finally {
      rmSync(cwd, {force: true, recursive: true})
    }
  })
})
