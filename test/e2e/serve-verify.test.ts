/**
 * A run against a logbench serve with no store flags verifies through serve's
 * read-only POST /api/verify: serve on the embedded engine holds the data
 * directory, and the run still ends verified.
 */
import {expect} from 'chai'
import {rmSync, writeFileSync} from 'node:fs'

import {startCli} from '../lib/load/cli.js'
import {runCli, tempDir} from '../helpers.js'

describe('verification through a logbench serve on the embedded engine', function () {
  const dir = tempDir('logbench-serve-verify-')
  let serve: ReturnType<typeof startCli>
  let url: string

  before(async () => {
    serve = startCli(['serve', '--port', '0', '--data-dir', dir, '--token', 'tok-3'], {env: {CLICKHOUSE_URL: ''}})
    await serve.waitFor(/listening on http:\/\/\S+/, 'stdout')
    url = /listening on (http:\/\/\S+)/.exec(serve.stdout())![1]
  })

  after(async () => {
    serve?.child.kill('SIGTERM')
    await serve?.done
    rmSync(dir, {force: true, recursive: true})
  })

  it('parallel --target that serve ends in a verified report, behind its token', async () => {
    const env = {CLICKHOUSE_URL: '', LOGBENCH_TOKEN: 'tok-3'}
    const result = await runCli(['parallel', '--workers', '2', '--logs-per-worker', '5000', '--target', url, '--json'], {env})
    expect(result.code, result.stderr).to.equal(0)
    const json = JSON.parse(result.stdout)
    expect(json.verification).to.include({acked: 10_000, duplicated: 0, missing: 0, ok: true, stored: 10_000})
    expect(json.verification.store).to.equal(`logbench serve at ${new URL(url).origin}`)
    // The run id is checked through serve too: reusing it is refused before sending.
    const again = await runCli(['run', '--target', url, '--logs', '100', '--run-id', json.runId, '--json'], {env})
    expect(again.code).to.equal(2)
    expect(JSON.parse(again.stdout).error.message).to.include('already has 10,000 rows in logbench serve')
  })

  it('merge of the workers verifies through the serve they sent to', async () => {
    const env = {CLICKHOUSE_URL: '', LOGBENCH_TOKEN: 'tok-3'}
    const runId = `merge-${Date.now()}`
    const files: string[] = []
    for (let index = 0; index < 2; index++) {
      const worker = await runCli(['run', '--target', url, '--logs', '2000', '--run-id', runId, '--worker-index', String(index), '--worker-count', '2', '--no-verify', '--json'], {env})
      expect(worker.code, worker.stderr).to.equal(0)
      const file = `${dir}/w${index}.json`
      writeFileSync(file, worker.stdout)
      files.push(file)
    }

    const merged = await runCli(['merge', ...files, '--json'], {env})
    expect(merged.code, merged.stderr).to.equal(0)
    expect(JSON.parse(merged.stdout).verification).to.include({acked: 4000, missing: 0, ok: true, stored: 4000})
  })
})
