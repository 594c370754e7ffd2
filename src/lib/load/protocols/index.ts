/**
 * The wire protocols a run speaks: the JSON shapes of an ingest API (json),
 * OTLP/HTTP logs (otlp), Loki push (loki) and Elasticsearch _bulk
 * (elasticsearch). Each has its own default path, content type, envelope and
 * way of acknowledging records; all take their logs from the same generator.
 */
import type {LogSynth, Payload} from '../generate/synth.js'
import type {BatchEncoder} from './ack.js'

import {BULK_PATH, bulkEncoder, DEFAULT_INDEX} from './elasticsearch.js'
import {jsonEncoder} from './json.js'
import {LOKI_PATH, lokiEncoder} from './loki.js'
import {OTLP_PATH, otlpEncoder, type OtlpEncoding} from './otlp.js'

export type {Ack, BatchEncoder} from './ack.js'
export type {OtlpEncoding} from './otlp.js'

export type ProtocolName = 'json' | 'otlp' | 'loki' | 'elasticsearch'
export const PROTOCOLS: readonly ProtocolName[] = ['json', 'otlp', 'loki', 'elasticsearch']

/** The protocol of a run and its options, as the result's config carries them. */
export interface ProtocolConfig {
  name: ProtocolName
  /** otlp: protobuf (default) or json. */
  encoding?: OtlpEncoding
  /** loki: values of the extra "shard" label (1: labels app and level only). */
  lokiShards?: number
  /** elasticsearch: index or data stream of every document. */
  index?: string
}

export const JSON_PROTOCOL: ProtocolConfig = {name: 'json'}

/** Where a bare origin posts to. */
export function defaultPath(name: ProtocolName): string {
  return {elasticsearch: BULK_PATH, json: '/api/logs/batch', loki: LOKI_PATH, otlp: OTLP_PATH}[name]
}

export function createEncoder(protocol: ProtocolConfig, synth: LogSynth, payload: Payload): BatchEncoder {
  switch (protocol.name) {
    case 'otlp': {
      return otlpEncoder(synth, protocol.encoding ?? 'protobuf')
    }

    case 'loki': {
      return lokiEncoder(synth, protocol.lokiShards ?? 1)
    }

    case 'elasticsearch': {
      return bulkEncoder(synth, protocol.index ?? DEFAULT_INDEX)
    }

    default: {
      return jsonEncoder(synth, payload)
    }
  }
}

/** The protocol in words, for the report. */
export function describeProtocol(protocol: ProtocolConfig | undefined, payload: Payload): string {
  switch (protocol?.name) {
    case 'otlp': {
      return `OTLP/HTTP logs, ${protocol.encoding ?? 'protobuf'}`
    }

    case 'loki': {
      return `Loki push, streams by app and level${(protocol.lokiShards ?? 1) > 1 ? ` x ${protocol.lokiShards} shards` : ''}`
    }

    case 'elasticsearch': {
      return `Elasticsearch _bulk into ${protocol.index ?? DEFAULT_INDEX}`
    }

    default: {
      return `${payload} payload`
    }
  }
}
