/**
 * End to end: the built CLI, real worker processes, the real serve, real
 * storage (the embedded engine, and ClickHouse 18.16 started by the fixture).
 */
import {expect} from 'chai'
import {rmSync} from 'node:fs'

import {type IngestServer, startIngestServer} from '../../src/lib/ingest/index.js'
import {openStore, type Store} from '../../src/lib/store/index.js'
import {runCli, serverUrl, tempDir, uniqueDatabase} from '../helpers.js'

interface WorkerJson {
  status: string
  logs: {sent: number; acked: number; failed: number}
}

const sum = (workers: WorkerJson[], key: 'sent' | 'acked' | 'failed') => workers.reduce((total, w) => total + w.logs[key], 0)

describe('e2e: parallel', () => {
  it('zero set-up: 2 workers x 20,000 logs on a fresh data directory, every acknowledged log stored', async () => {
    const dir = tempDir('logbench-e2e-')
    try {
      const result = await runCli(['parallel', '--workers', '2', '--logs-per-worker', '20000', '--json', '--data-dir', dir])
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json.logs).to.deep.equal({acked: 40_000, failed: 0, sent: 40_000})
      expect(json.verification).to.deep.include({acked: 40_000, duplicated: 0, missing: 0, ok: true, stored: 40_000, unique: 40_000})
      expect(json.workers.map((w: WorkerJson) => w.status)).to.deep.equal(['ok', 'ok'])
      expect(sum(json.workers, 'acked')).to.equal(json.logs.acked)
      expect(json.analysis.reports.total.logs).to.equal(40_000)
      expect(json.analysis.reports.levels.rows.reduce((total: number, l: {logs: number}) => total + l.logs, 0)).to.equal(40_000)
      expect(json.assessment.grade).not.to.equal('failed')
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  describe('against serve on a ClickHouse server', function () {
    let store: Store | undefined
    let serve: IngestServer | undefined

    before(async function () {
      const url = serverUrl()
      if (!url) {
        if (process.env.CI === 'true') throw new Error('the ClickHouse server is mandatory under CI=true')
        this.skip()
      }

      store = await openStore({clickhouseUrl: url, database: uniqueDatabase('lbe2e')})
      await store.ensureSchema()
      serve = await startIngestServer({port: 0, store})
    })

    after(async () => {
      await serve?.stop()
      if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store?.close()
    })

    it('totals equal the sum of the workers and the stored count of the run id', async () => {
      const result = await runCli([
        'parallel',
        '--target',
        serve!.url,
        '--workers',
        '2',
        '--logs-per-worker',
        '20000',
        '--clickhouse-url',
        serverUrl()!,
        '--database',
        store!.info.database,
        '--json',
        '--threshold',
        'lost==0',
      ])
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      const [row] = await store!.query<{n: number; u: number}>(`SELECT count() AS n, uniqExact(seq) AS u FROM ${store!.tableRef} WHERE run_id = {runId:String}`, {
        runId: json.runId,
      })
      expect(json.logs.acked).to.equal(40_000)
      expect(sum(json.workers, 'sent')).to.equal(json.logs.sent)
      expect(sum(json.workers, 'acked')).to.equal(json.logs.acked)
      expect(Number(row.n)).to.equal(json.logs.acked)
      expect(Number(row.u)).to.equal(json.logs.acked)
      expect(json.verification).to.deep.include({missing: 0, ok: true, stored: Number(row.n)})
      expect(json.verification.store).to.include('ClickHouse')
      expect(json.thresholds[0]).to.deep.include({actual: 0, ok: true})
    })

    it('zero set-up with --clickhouse-url: its own serve stores into the server and verifies there', async () => {
      const result = await runCli(['run', '--logs', '10000', '--clickhouse-url', serverUrl()!, '--database', store!.info.database, '--json'])
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json.verification).to.deep.include({acked: 10_000, missing: 0, ok: true, stored: 10_000})
      expect(json.verification.store).to.include('ClickHouse')
      const [row] = await store!.query<{n: number}>(`SELECT count() AS n FROM ${store!.tableRef} WHERE run_id = {runId:String}`, {runId: json.runId})
      expect(Number(row.n)).to.equal(10_000)
    })
  })
})
