import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, rmSync} from 'node:fs'
import path from 'node:path'

import {capabilitiesFor, openStore, parseVersion} from '../../src/lib/store/index.js'
import {guideTableSql} from '../fixtures/guide-app.js'
import {binPath, repoRoot, requireServerUrl, runCli, tempDir, uniqueDatabase} from '../helpers.js'

describe('logbench doctor', () => {
  it('exits 3 naming the URL and what to do when ClickHouse is unreachable', async () => {
    const result = await runCli(['doctor'], {env: {CLICKHOUSE_URL: 'http://127.0.0.1:1'}})
    expect(result.code).to.equal(3)
    expect(result.stderr).to.include('http://127.0.0.1:1')
    expect(result.stderr).to.include('ECONNREFUSED')
    expect(result.stderr).to.match(/docker compose up -d|--clickhouse-url/)
    expect(result.stdout).to.equal('')
  })

  it('keeps the exit code and prints a JSON error object under --json', async () => {
    const result = await runCli(['doctor', '--json', '--clickhouse-url', 'http://alice:s3cret@127.0.0.1:1'])
    expect(result.code).to.equal(3)
    const parsed = JSON.parse(result.stdout)
    expect(parsed.error).to.include({exitCode: 3, kind: 'environment'})
    expect(parsed.error.message).to.include('http://alice@127.0.0.1:1')
    expect(result.stdout + result.stderr).not.to.include('s3cret')
  })

  it('shows each store with its version and the capabilities of that version (a server and the embedded engine)', async function () {
    const url = requireServerUrl(this)
    const server = await runCli(['doctor', '--json', '--clickhouse-url', url])
    expect(server.code, server.stderr).to.equal(0)
    const dir = tempDir()
    try {
      const embedded = await runCli(['doctor', '--json', '--data-dir', dir])
      expect(embedded.code, embedded.stderr).to.equal(0)
      const a = JSON.parse(server.stdout)
      const b = JSON.parse(embedded.stdout)
      expect(a.store.kind).to.equal('server')
      expect(b.store).to.include({kind: 'embedded', location: dir})
      // The server's own answer, whatever its version.
      const version = (await (await fetch(`${url.replace(/\/$/, '')}/?query=${encodeURIComponent('SELECT version()')}`)).text()).trim()
      expect(a.store.version).to.equal(version)
      for (const doc of [a, b]) expect(doc.store.capabilities, doc.store.kind).to.deep.equal(capabilitiesFor(parseVersion(doc.store.version)))
      expect(a.store.schemaExists).to.be.a('boolean')
      expect(b.node.version).to.match(/^v\d+/)
      // The human report lists the same capabilities, yes or no.
      const human = await runCli(['doctor', '--clickhouse-url', url])
      for (const [name, on] of Object.entries(a.store.capabilities)) expect(human.stdout).to.match(new RegExp(`${name}\\s+${on ? 'yes' : 'no'}\\b`))
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  it('prints a human report by default', async () => {
    const dir = tempDir()
    try {
      const result = await runCli(['doctor', '--data-dir', dir])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/store\s+embedded engine/)
      const version = parseVersion(/version\s+(\S+)/.exec(result.stdout)![1])
      expect(result.stdout).to.match(new RegExp(`lowCardinality\\s+${capabilitiesFor(version).lowCardinality ? 'yes' : 'no'}`))
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  it('--database and --table: prints the table profile and what the table lacks for which feature', async function () {
    const url = requireServerUrl(this)
    const database = uniqueDatabase('lbdoctor')
    const store = await openStore({clickhouseUrl: url, database})
    try {
      for (const sql of guideTableSql(database, 'logs')) await store.command(sql)
      await store.command(`CREATE TABLE ${database}.plain (app_id String, message String, created_at DateTime) ENGINE = MergeTree ORDER BY created_at`)
      // The guide's table: run id and seq inside the JSON metadata, no event time.
      const guide = await runCli(['doctor', '--json', '--clickhouse-url', url, '--database', database, '--table', 'logs'])
      expect(guide.code, guide.stderr).to.equal(0)
      const json = JSON.parse(guide.stdout)
      expect(json.profile).to.deep.include({engine: 'MergeTree', shape: 'guide', table: `${database}.logs`})
      expect(json.profile.roles).to.deep.equal({app: 'app_id', event_time: null, ingest_time: 'created_at', level: 'level', message: 'message', run_id: 'metadata.run_id', seq: 'metadata.seq', source: 'source'})
      const lacking = json.features.filter((f: {ok: boolean}) => !f.ok)
      expect(lacking.map((f: {feature: string}) => f.feature)).to.deep.equal(['analyze lag'])
      expect(lacking[0].reason).to.include('has no event_time').and.include('--column event_time=COLUMN')
      const human = await runCli(['doctor', '--clickhouse-url', url, '--database', database, '--table', 'logs'])
      expect(human.code, human.stderr).to.equal(0)
      expect(human.stdout).to.match(/table profile \(guide shape\)/)
      expect(human.stdout).to.match(/run_id\s+metadata\.run_id/).and.match(/seq\s+metadata\.seq/).and.match(/event_time\s+—/)
      expect(human.stdout).to.match(/analyze lag\s+no\s+\S+\.logs has no event_time .*--column event_time=COLUMN/)
      expect(human.stdout).to.match(/verification \(run, parallel, merge\)\s+yes/)
      // A table with no run id or seq: verification and the reports that need them are named, with the flag.
      const plain = JSON.parse((await runCli(['doctor', '--json', '--clickhouse-url', url, '--database', database, '--table', 'plain'])).stdout)
      const missing = Object.fromEntries(plain.features.filter((f: {ok: boolean}) => !f.ok).map((f: {feature: string; reason: string}) => [f.feature, f.reason]))
      expect(missing['verification (run, parallel, merge)']).to.match(/no run_id .*--column run_id=COLUMN/)
      expect(missing['cleanup --run-id']).to.include('--column run_id=')
      expect(plain.features.find((f: {feature: string}) => f.feature === 'analyze apps').ok).to.equal(true)
    } finally {
      await store.command(`DROP DATABASE IF EXISTS ${database}`)
      await store.close()
    }
  })

  it('rejects an invalid table name as a usage error (exit 2)', async () => {
    const result = await runCli(['doctor', '--table', 'logs;DROP', '--data-dir', tempDir()])
    expect(result.code).to.equal(2)
    expect(result.stderr).to.include('not a valid identifier')
  })
})

describe('logbench CLI', () => {
  it('--version prints the version', async () => {
    const result = await runCli(['--version'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.match(/^logbench\/\d+\.\d+\.\d+/)
  })

  it('--help lists every command with its summary', async () => {
    const result = await runCli(['--help'])
    expect(result.code).to.equal(0)
    // Every command of src/commands, with its own summary (wrapped to the width, so compared word by word).
    const listed = result.stdout.slice(result.stdout.indexOf('COMMANDS')).replaceAll(/\s+/g, ' ')
    const names = readdirSync(path.join(repoRoot, 'src', 'commands')).filter((file) => file.endsWith('.ts')).map((file) => file.slice(0, -3))
    expect(names).to.include.members(['analyze', 'cleanup', 'doctor', 'merge', 'parallel', 'report', 'run', 'serve'])
    for (const name of names) {
      const command = (await import(`../../src/commands/${name}.js`)).default as {summary?: string}
      expect(command.summary, `${name} has a summary`).to.be.a('string').and.not.equal('')
      expect(listed, name).to.include(` ${name} ${command.summary!.replaceAll(/\s+/g, ' ')}`)
    }
  })

  it('an unknown flag is a usage error (exit 2)', async () => {
    const result = await runCli(['doctor', '--no-such-flag'])
    expect(result.code).to.equal(2)
  })

  it('refuses to start on a Node older than 22 with a one-line message', function () {
    // An old Node: LOGBENCH_TEST_OLD_NODE (.ci/run installs Node 20 there when the system has none), or the system's.
    const candidates = [process.env.LOGBENCH_TEST_OLD_NODE, '/usr/bin/node', '/usr/local/bin/node'].filter((candidate): candidate is string => Boolean(candidate))
    const old = candidates.find((candidate) => {
      if (!existsSync(candidate)) return false
      const version = spawnSync(candidate, ['--version'], {encoding: 'utf8'}).stdout.trim()
      return Number(version.slice(1).split('.')[0]) < 22
    })
    if (!old) {
      if (process.env.CI === 'true') throw new Error(`no Node older than 22 among ${candidates.join(', ')} under CI=true (.ci/run installs one and sets LOGBENCH_TEST_OLD_NODE)`)
      this.skip()
    }

    const result = spawnSync(old!, [binPath, '--version'], {encoding: 'utf8'})
    expect(result.status).to.equal(3)
    expect(result.stderr.trim().split('\n')).to.have.length(1)
    expect(result.stderr).to.match(/needs Node\.js >= 22/)
    expect(result.stderr).to.include('npx logbench')
  })
})
