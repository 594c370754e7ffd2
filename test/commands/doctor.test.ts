import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, rmSync} from 'node:fs'

import {binPath, runCli, serverUrl, tempDir} from '../helpers.js'

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

  it('shows different capability sets for ClickHouse 18.16 and the embedded engine', async function () {
    const url = serverUrl()
    if (!url) this.skip()
    const server = await runCli(['doctor', '--json', '--clickhouse-url', url!])
    expect(server.code, server.stderr).to.equal(0)
    const dir = tempDir()
    try {
      const embedded = await runCli(['doctor', '--json', '--data-dir', dir])
      expect(embedded.code, embedded.stderr).to.equal(0)
      const a = JSON.parse(server.stdout)
      const b = JSON.parse(embedded.stdout)
      expect(a.store.kind).to.equal('server')
      expect(b.store.kind).to.equal('embedded')
      expect(a.store.capabilities).to.have.all.keys(Object.keys(b.store.capabilities))
      expect(a.store.capabilities).not.to.deep.equal(b.store.capabilities)
      expect(b.store.capabilities.dateTime64).to.equal(true)
      expect(a.store.schemaExists).to.be.a('boolean')
      expect(b.node.version).to.match(/^v\d+/)
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
      expect(result.stdout).to.match(/lowCardinality\s+yes/)
    } finally {
      rmSync(dir, {force: true, recursive: true})
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

  it('--help lists every command with a summary', async () => {
    const result = await runCli(['--help'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.match(/doctor\s+Show the storage/)
  })

  it('an unknown flag is a usage error (exit 2)', async () => {
    const result = await runCli(['doctor', '--no-such-flag'])
    expect(result.code).to.equal(2)
  })

  it('refuses to start on a Node older than 22 with a one-line message', function () {
    const old = ['/usr/bin/node', '/usr/local/bin/node'].find((candidate) => {
      if (!existsSync(candidate)) return false
      const version = spawnSync(candidate, ['--version'], {encoding: 'utf8'}).stdout.trim()
      return Number(version.slice(1).split('.')[0]) < 22
    })
    if (!old) this.skip()
    const result = spawnSync(old!, [binPath, '--version'], {encoding: 'utf8'})
    expect(result.status).to.equal(3)
    expect(result.stderr.trim().split('\n')).to.have.length(1)
    expect(result.stderr).to.match(/needs Node\.js >= 22/)
    expect(result.stderr).to.include('npx logbench')
  })
})
