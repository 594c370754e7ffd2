/**
 * OTLP end to end on the embedded engine: a receiver writes the records it
 * accepts into an otel_logs table with the OpenTelemetry ClickHouse exporter's
 * columns (as the exporter maps them: ServiceName from service.name, the body,
 * severity, trace and span ids in hex, every attribute as text in
 * LogAttributes), rejecting 1 in 50 through partialSuccess; `run --protocol
 * otlp` with verification then counts acked = stored through the detected
 * otel profile (LogAttributes['logbench.run_id'] / ['logbench.seq']).
 *
 * The embedded engine is one process per data directory, so the receiver and
 * the run share this test process and its open store.
 */
import {expect} from 'chai'

import {parseLoadFlags} from '../../src/lib/load/settings.js'
import {runSession} from '../../src/lib/load/session/run-session.js'
import type {Store} from '../../src/lib/store/index.js'
import {otelLogsTableSql} from '../fixtures/otel-logs.js'
import {type ReceivedRecord, startReceiver} from '../fixtures/receivers/receiver.js'
import {openEmbeddedStore, uniqueDatabase} from '../helpers.js'

/** Rows as the exporter writes them, into its own columns. */
async function writeOtelRows(store: Store, database: string, records: ReceivedRecord[]): Promise<void> {
  const rows = records.map((record) => {
    const {attributes = {}} = record
    const row = {
      Body: record.message,
      LogAttributes: Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, String(value)])),
      ResourceAttributes: {'service.name': record.app},
      ScopeName: 'logbench',
      ServiceName: record.app,
      SeverityNumber: record.severityNumber,
      SeverityText: record.level,
      SpanId: record.spanId ?? '',
      Timestamp: record.timeNs,
      TraceId: record.traceId ?? '',
    }
    return JSON.stringify(row).replace(/"Timestamp":"(\d+)"/, '"Timestamp":$1')
  })
  await store.command(
    `INSERT INTO ${database}.otel_logs (Body, LogAttributes, ResourceAttributes, ScopeName, ServiceName, SeverityNumber, SeverityText, SpanId, Timestamp, TraceId) FORMAT JSONEachRow\n${rows.join('\n')}`,
  )
}

describe('run --protocol otlp on the embedded engine, verified through the otel_logs preset', function () {
  const database = uniqueDatabase('otlp')
  let store: Store | undefined

  before(async () => {
    store = await openEmbeddedStore(database, 'otel_logs')
    for (const sql of otelLogsTableSql(database)) await store.command(sql)
  })

  after(async () => {
    if (store) await store.command(`DROP DATABASE IF EXISTS ${database}`)
    await store?.close()
  })

  for (const encoding of ['protobuf', 'json']) {
    it(`${encoding}: acknowledged = stored, the rejected records neither acknowledged nor stored`, async () => {
      const receiver = await startReceiver({
        decide: (seq) => (seq % 50 === 49 ? 'reject' : 'ok'),
        protocol: 'otlp',
        write: (records) => writeOtelRows(store!, database, records),
      })
      try {
        const runId = `run-otlp-e2e-${encoding}`
        const settings = parseLoadFlags({
          'batch-size': 500,
          concurrency: 2,
          'max-in-flight': 128,
          'otlp-encoding': encoding,
          protocol: 'otlp',
          retries: 2,
          'run-id': runId,
          seed: 3,
          target: receiver.url,
          timeout: '10s',
          verify: true,
          'verify-wait': '0s',
        })
        const outcome = await runSession({settings: {...settings, logs: 10_000}, store, storeOptions: {database, table: 'otel_logs'}})
        const {result, verdict} = outcome!
        expect(result.config.target).to.equal(`${receiver.url}/v1/logs`)
        expect(result.logs).to.deep.equal({acked: 9800, failed: 200, sent: 10_000})
        expect(result.errors.logsByKind).to.deep.equal({rejected: 200})
        expect(result.verification).to.deep.include({acked: 9800, duplicated: 0, missing: 0, ok: true, stored: 9800})
        expect(result.verification!.store).to.match(/\.otel_logs$/)
        expect(verdict.failed, verdict.reasons.join('; ')).to.equal(false)
        const [row] = await store!.query<{n: number; services: number; hex: number}>(
          `SELECT count() AS n, uniqExact(ServiceName) AS services, countIf(match(TraceId, '^[0-9a-f]{32}$') AND match(SpanId, '^[0-9a-f]{16}$')) AS hex FROM ${database}.otel_logs WHERE LogAttributes['logbench.run_id'] = {runId:String}`,
          {runId},
        )
        expect(Number(row.n)).to.equal(9800)
        expect(Number(row.services)).to.equal(4)
        expect(Number(row.hex)).to.equal(9800)
      } finally {
        await receiver.stop()
      }
    })
  }
})
