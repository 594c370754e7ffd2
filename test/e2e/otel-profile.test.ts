/**
 * An OpenTelemetry exporter's otel_logs table on the embedded engine: rows in
 * the exporter's shape, with logbench's run id and seq in LogAttributes, are
 * read by analyze and by verification through the detected profile.
 */
import {expect} from 'chai'

import {analyze, parseReportOptions, REPORT_NAMES} from '../../src/lib/analyze/index.js'
import {openStoreCounter, verifyRun} from '../../src/lib/verify/verify.js'
import type {Store} from '../../src/lib/store/index.js'
import {insertOtelRows, type OtelRow, otelLogsTableSql} from '../fixtures/otel-logs.js'
import {openEmbeddedStore, uniqueDatabase} from '../helpers.js'

const SERVICES = ['checkout', 'cart', 'payment']
const LEVELS: [string, number][] = [
  ['INFO', 9],
  ['WARN', 13],
  ['ERROR', 17],
]

/** 600 logs of one worker in batches of 100 (seq = index), batch 3 stored without seq 350, seq 42 stored twice. */
function rows(runId: string, start: number): OtelRow[] {
  const out: OtelRow[] = []
  for (let seq = 0; seq < 600; seq++) {
    if (seq === 350) continue
    const [SeverityText, SeverityNumber] = LEVELS[seq % 3]
    const row: OtelRow = {
      Body: `request ${seq} done`,
      LogAttributes: {'http.status_code': '200', 'logbench.run_id': runId, 'logbench.seq': String(seq)},
      ResourceAttributes: {'service.name': SERVICES[seq % 3]},
      ScopeName: 'logbench',
      ServiceName: SERVICES[seq % 3],
      SeverityNumber,
      SeverityText,
      Timestamp: `${BigInt(start + seq * 10) * 1_000_000n}`,
    }
    out.push(row)
    if (seq === 42) out.push(row)
  }

  return out
}

describe('an otel_logs table on the embedded engine, through the detected profile', function () {
  const database = uniqueDatabase('otel')
  let store: Store | undefined
  const start = Date.now() - 60_000

  before(async () => {
    store = await openEmbeddedStore(database, 'otel_logs')
    for (const sql of otelLogsTableSql(database)) await store.command(sql)
    await insertOtelRows(store, database, rows('otel-run', start))
  })

  after(async () => {
    if (store) await store.command(`DROP DATABASE IF EXISTS ${database}`)
    await store?.close()
  })

  it('analyze reads services, severities, rates and runs from the exporter columns, and skips only lag', async () => {
    const result = await analyze(store!, [...REPORT_NAMES], parseReportOptions({}), {skipUnsupported: true})
    expect(result.profile).to.deep.include({shape: 'otel'})
    expect(result.reports.total).to.include({apps: 3, logs: 600, runs: 1})
    expect(result.reports.apps!.rows.map((r) => r.app).sort()).to.deep.equal([...SERVICES].sort())
    expect(result.reports.levels!.rows.map((r) => r.level).sort()).to.deep.equal(['error', 'info', 'warn'])
    expect(result.reports.rates!.logs).to.equal(600)
    expect(result.reports.rates!.resolutionMs).to.equal(1)
    expect(result.reports.runs!.rows[0]).to.include({logs: 600, runId: 'otel-run'})
    expect(result.skipped!.map((s) => s.report)).to.deep.equal(['lag'])
    const filtered = await analyze(store!, ['total'], parseReportOptions({apps: ['cart'], levels: ['warn'], runIds: ['otel-run']}))
    expect(filtered.reports.total!.logs).to.equal(200)
  })

  it('verification counts LogAttributes run id and seq exactly: one missing, one duplicated', async () => {
    const counter = await openStoreCounter(store!)
    expect(counter.where).to.include(`${database}.otel_logs`)
    const v = await verifyRun(counter, {acked: 600, batchSize: 100, failedKeys: [], failedKeysComplete: true, runId: 'otel-run', sentBatches: [6], workers: 1})
    expect(v).to.include({acked: 600, duplicated: 1, missing: 1, ok: false, stored: 600, unique: 599})
  })
})
