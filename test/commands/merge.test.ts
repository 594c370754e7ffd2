import {expect} from 'chai'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {openStore, type Store} from '../../src/lib/store/index.js'
import {requireServerUrl, runCli, serverUrl, tempDir, uniqueDatabase} from '../helpers.js'
import {type Sink, startSink} from '../lib/load/sink.js'

describe('logbench merge', () => {
  let dir: string
  let sink: Sink
  let store: Store | undefined
  const files: string[] = []

  before(async function () {
    dir = tempDir('logbench-merge-')
    const url = serverUrl()
    if (url) {
      store = await openStore({clickhouseUrl: url, database: uniqueDatabase('lbmerge')})
      await store.ensureSchema()
    }

    // Two "hosts": workers 0 and 1 of one run, writing run --json files.
    sink = await startSink({store})
    for (const index of [0, 1]) {
      const result = await runCli(['run', '--target', sink.url, '--logs', '3000', '--run-id', 'run-merge-e2e', '--worker-index', String(index), '--worker-count', '2', '--json'])
      expect(result.code, result.stderr).to.equal(0)
      const file = path.join(dir, `host-${index}.json`)
      writeFileSync(file, result.stdout)
      files.push(file)
    }
  })

  after(async () => {
    await sink.stop()
    if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
    await store?.close()
    rmSync(dir, {force: true, recursive: true})
  })

  it('merges result files into one aggregate (JSON)', async () => {
    const result = await runCli(['merge', ...files, '--json'])
    expect(result.code, result.stderr).to.equal(0)
    const json = JSON.parse(result.stdout)
    expect(json.kind).to.equal('merge')
    expect(json.runId).to.equal('run-merge-e2e')
    expect(json.logs).to.deep.equal({acked: 6000, failed: 0, sent: 6000})
    expect(json.workers.map((w: {index: number}) => w.index)).to.deep.equal([0, 1])
    expect(json.latency.count).to.equal(6)
    expect(json.sources).to.deep.equal(files)
    expect(json.verification).to.equal(null)
  })

  it('prints the aggregate report for people', async () => {
    const result = await runCli(['merge', ...files])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.include('logbench merge of 2 results')
    expect(result.stdout).to.match(/total logs\s+6,000 acknowledged of 6,000 sent/)
    expect(result.stdout).to.include('--clickhouse-url')
  })

  it('verifies the merged run against ClickHouse, and fails a threshold (exit 4)', async function () {
    requireServerUrl(this)
    const ok = await runCli(['merge', ...files, '--clickhouse-url', serverUrl()!, '--database', store!.info.database, '--json', '--threshold', 'lost==0'])
    expect(ok.code, ok.stderr).to.equal(0)
    expect(JSON.parse(ok.stdout).verification).to.deep.include({acked: 6000, missing: 0, ok: true, stored: 6000})
    const breach = await runCli(['merge', ...files, '--clickhouse-url', serverUrl()!, '--database', store!.info.database, '--threshold', 'throughput>=1000000000'])
    expect(breach.code).to.equal(4)
    expect(breach.stderr).to.include('check failed: threshold throughput>=1000000000 breached')
  })

  it('rejects a file that is not a result, and the same file twice (exit 2)', async () => {
    const bogus = path.join(dir, 'bogus.json')
    writeFileSync(bogus, '{"hello": 1}')
    const notResult = await runCli(['merge', bogus])
    expect(notResult.code).to.equal(2)
    expect(notResult.stderr).to.include('bogus.json is not a logbench result')
    const twice = await runCli(['merge', files[0], files[0]])
    expect(twice.code).to.equal(2)
    expect(twice.stderr).to.include('hold the same worker result')
    const none = await runCli(['merge'])
    expect(none.code).to.equal(2)
  })
})
