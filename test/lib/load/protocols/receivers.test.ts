/**
 * Each protocol against a receiver written from its specification: every
 * record's fields, attributes and times are what the generator made, and the
 * counts per request match the batches.
 */
import {expect} from 'chai'
import {createHash} from 'node:crypto'

import type {ProtocolConfig} from '../../../../src/lib/load/protocols/index.js'
import type {RunResult} from '../../../../src/lib/load/result/types.js'

import {createEncoder} from '../../../../src/lib/load/protocols/index.js'
import {ByteWriter} from '../../../../src/lib/format/byte-writer.js'
import {LogSynth} from '../../../../src/lib/load/generate/synth.js'
import {runWorker} from '../../../../src/lib/load/session/worker.js'
import {type ReceivedRecord, type ReceiverProtocol, startReceiver} from '../../../fixtures/receivers/receiver.js'

/** The README's OTLP severity numbers (the OpenTelemetry log data model's DEBUG, INFO, WARN, ERROR and FATAL). */
const SEVERITY: Record<string, number> = {debug: 5, error: 17, fatal: 21, info: 9, warn: 13}

const LOGS = 2000
const BATCH = 250
const RUN = 'run-protocols-1'
const SEED = 4242

const cases: {label: string; protocol: ProtocolConfig; receiver: ReceiverProtocol; path: string}[] = [
  {label: 'otlp (protobuf)', path: '/v1/logs', protocol: {encoding: 'protobuf', name: 'otlp'}, receiver: 'otlp'},
  {label: 'otlp (json)', path: '/v1/logs', protocol: {encoding: 'json', name: 'otlp'}, receiver: 'otlp'},
  {label: 'loki', path: '/loki/api/v1/push', protocol: {lokiShards: 1, name: 'loki'}, receiver: 'loki'},
  {label: 'loki with 3 shards', path: '/loki/api/v1/push', protocol: {lokiShards: 3, name: 'loki'}, receiver: 'loki'},
  {label: 'elasticsearch', path: '/_bulk', protocol: {index: 'logs-logbench-default', name: 'elasticsearch'}, receiver: 'elasticsearch'},
]

async function send(protocol: ProtocolConfig, url: string, extra: Partial<Parameters<typeof runWorker>[0]> = {}): Promise<RunResult> {
  return runWorker({
    batchSize: BATCH,
    concurrency: 2,
    errorRate: 0.05,
    logs: LOGS,
    payload: 'array',
    protocol,
    retries: 2,
    runId: RUN,
    seed: SEED,
    target: new URL(url),
    timeoutMs: 10_000,
    worker: {count: 1, index: 0},
    ...extra,
  })
}

/** The log of the default shape the generator makes for a seq at a time: the reference every protocol is held to. */
function expected(seq: number, timeNs: string): Record<string, unknown> & {metadata: Record<string, unknown>} {
  const ms = Number(BigInt(timeNs) / 1_000_000n)
  expect(BigInt(timeNs) % 1_000_000n, 'event time is a whole ms in ns').to.equal(0n)
  return JSON.parse(new LogSynth({errorRate: 0.05, runId: RUN, seed: SEED}).log(seq, ms))
}

function checkRecord(label: string, record: ReceivedRecord, startMs: number, endMs: number): void {
  const log = expected(record.seq, record.timeNs)
  const ms = Number(BigInt(record.timeNs) / 1_000_000n)
  expect(ms, 'event time within the run').to.be.within(startMs - 1, endMs + 1)
  expect(record.runId).to.equal(RUN)
  expect(record.app).to.equal(log.app_id)
  expect(record.level).to.equal(log.level)
  expect(record.message).to.equal(log.message)
  expect(record.source).to.equal(log.source)
  if (label.startsWith('otlp')) {
    expect(record.severityNumber, `severity number of ${String(log.level)}`).to.equal(SEVERITY[String(log.level)])
    const {metadata} = log
    expect(record.attributes).to.deep.equal({
      duration_ms: metadata.duration_ms,
      env: metadata.env,
      'logbench.run_id': RUN,
      'logbench.seq': record.seq,
      region: metadata.region,
      source: log.source,
      user_id: metadata.user_id,
    })
    expect(record.spanId).to.equal(metadata.request_id)
    expect(record.traceId).to.match(/^[0-9a-f]{32}$/)
  } else {
    // Loki's line and the _bulk document are the entry itself.
    expect(record.entry).to.deep.equal(log)
  }
}

describe('load/protocols against receivers written from each specification', () => {
  for (const {label, path, protocol, receiver: kind} of cases) {
    it(`${label}: every record as generated, the counts per request as sent`, async () => {
      const receiver = await startReceiver({protocol: kind})
      try {
        const before = Date.now()
        const result = await send(protocol, receiver.url + path)
        const after = Date.now()
        expect(result.logs).to.deep.equal({acked: LOGS, failed: 0, sent: LOGS})
        expect(result.config.protocol).to.deep.equal(protocol)
        expect(receiver.requests.map((r) => r.path)).to.deep.equal(Array.from({length: LOGS / BATCH}, () => path))
        expect(receiver.requests.map((r) => r.records)).to.deep.equal(Array.from({length: LOGS / BATCH}, () => BATCH))
        expect(receiver.records.map((r) => r.seq).sort((a, b) => a - b)).to.deep.equal(Array.from({length: LOGS}, (_, i) => i))
        for (const record of receiver.records) checkRecord(label, record, before, after)
        // Each request carries whole batches: seq div BATCH is the same for all its records.
        const batchesPerRequest = new Map<number, Set<number>>()
        for (const record of receiver.records) {
          const set = batchesPerRequest.get(record.request) ?? new Set()
          set.add(Math.floor(record.seq / BATCH))
          batchesPerRequest.set(record.request, set)
        }

        expect([...batchesPerRequest.values()].every((set) => set.size === 1)).to.equal(true)
        if (kind === 'loki') {
          const shards = protocol.lokiShards ?? 1
          for (const record of receiver.records) {
            const labels = {app: record.app, level: record.level, ...(shards > 1 ? {shard: record.labels!.shard} : {})}
            expect(record.labels).to.deep.equal(labels)
          }

          const values = new Set(receiver.records.map((r) => r.labels!.shard))
          expect(values.size).to.equal(shards === 1 ? 1 : shards)
        }

        // Every level, so every severity number of the README was checked.
        if (kind === 'otlp') expect(new Set(receiver.records.map((r) => r.level))).to.have.keys(...Object.keys(SEVERITY))
        if (kind === 'elasticsearch') for (const record of receiver.records) expect(record.action).to.deep.equal({create: {_index: 'logs-logbench-default'}})
      } finally {
        await receiver.stop()
      }
    })
  }

  it('loki: any 2xx takes the push (200 and 202 with a body, as Loki-compatible APIs answer), anything else fails it', async () => {
    for (const [status, acked] of [[200, LOGS], [202, LOGS], [204, LOGS], [400, 0]] as const) {
      const receiver = await startReceiver({answer: () => ({body: status === 204 ? '' : '{"status":"success"}', status}), protocol: 'loki'})
      try {
        const result = await send({lokiShards: 1, name: 'loki'}, `${receiver.url}/loki/api/v1/push`)
        expect(receiver.requests.map((r) => r.status), String(status)).to.deep.equal(Array.from({length: LOGS / BATCH}, () => status))
        expect(result.logs, String(status)).to.deep.equal({acked, failed: LOGS - acked, sent: LOGS})
        if (acked === 0) expect(result.errors.logsByClass).to.deep.equal({http_400: LOGS})
      } finally {
        await receiver.stop()
      }
    }
  })

  it('otlp: one ResourceLogs per service, and the JSON mapping (hex ids, integer enums, 64-bit integers as strings)', () => {
    const synth = new LogSynth({runId: RUN, seed: SEED})
    const json = JSON.parse(createEncoder({encoding: 'json', name: 'otlp'}, synth, 'array').encode(400, (i) => i, 1_735_787_045_678, new ByteWriter(1024)).toString())
    const services = json.resourceLogs.map((r: {resource: {attributes: {key: string; value: {stringValue: string}}[]}}) => r.resource.attributes[0].value.stringValue)
    expect(new Set(services).size).to.equal(services.length)
    expect([...services].sort()).to.deep.equal([...synth.appNames].sort())
    const record = json.resourceLogs[0].scopeLogs[0].logRecords[0]
    expect(record.timeUnixNano).to.equal('1735787045678000000')
    expect(record.severityNumber).to.be.a('number')
    expect(record.attributes.find((a: {key: string}) => a.key === 'logbench.seq').value.intValue).to.be.a('string')
    expect(record.traceId).to.match(/^[0-9a-f]{32}$/)
    expect(record.spanId).to.match(/^[0-9a-f]{16}$/)
  })

  it('gives the same bytes for the same seed in every protocol, whatever order batches are built in', () => {
    const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')
    for (const {protocol} of cases) {
      const hashes = (order: number[]) => {
        const synth = new LogSynth({errorRate: 0.05, runId: RUN, seed: SEED})
        const encoder = createEncoder(protocol, synth, 'array')
        const out = new ByteWriter(1024)
        const by: string[] = []
        for (const b of order) by[b] = sha(encoder.encode(300, (i) => b * 300 + i, 1_735_787_045_678 + b, out))
        return by
      }

      const forward = hashes([0, 1, 2, 3, 4, 5])
      expect(hashes([5, 3, 1, 0, 2, 4]), protocol.name).to.deep.equal(forward)
      expect(new Set(forward).size).to.equal(6)
      const other = createEncoder(protocol, new LogSynth({errorRate: 0.05, runId: RUN, seed: SEED + 1}), 'array').encode(300, (i) => i, 1_735_787_045_678, new ByteWriter(16))
      expect(sha(other)).not.to.equal(forward[0])
    }
  })
})
