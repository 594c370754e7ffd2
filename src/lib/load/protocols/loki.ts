/**
 * Loki push (POST /loki/api/v1/push, JSON): streams labelled by app and level
 * (and, with --loki-shards N, a label "shard" of N values, for more streams),
 * each holding [timestamp in ns as a string, line] values. The line is the
 * entry (the default shape or the body template) as JSON text, so the run id
 * and seq travel inside it.
 *
 * Loki answers 204 for a push it took whole; it has no per-entry answer, so
 * anything else follows the retry classes of the request.
 */
import type {BatchEncoder} from './ack.js'

import {ByteWriter} from '../../format/byte-writer.js'
import {type LogSynth, mix32} from '../generate/synth.js'
import {ackAll, assertSuccess} from './ack.js'
import {Grouper} from './group.js'

export const LOKI_PATH = '/loki/api/v1/push'
export const MAX_LOKI_SHARDS = 10_000

const enc = (text: string) => Buffer.from(text)
const OPEN = enc('{"streams":[')
const VALUES_CLOSE = enc(']}')
const CLOSE = enc(']}')
const LINE_HEAD = enc('","')
const VALUE_CLOSE = enc('"]')

class LokiPush implements BatchEncoder {
  readonly contentType = 'application/json'
  readonly maxResponseBytes = 16 * 1024
  private readonly grouper = new Grouper()
  private readonly scratch = new ByteWriter(8192)
  private readonly levels: number
  private timeMs = Number.NaN
  private timeHead: Uint8Array = new Uint8Array()

  constructor(
    private readonly synth: LogSynth,
    private readonly shards: number,
  ) {
    this.levels = synth.levelNames.length
  }

  private keyOf(seq: number): number {
    const drawn = this.synth.begin(seq)
    const shard = this.shards > 1 ? mix32(seq ^ this.synth.seed) % this.shards : 0
    return (drawn.app * this.levels + drawn.level) * this.shards + shard
  }

  private streamHead(key: number): Uint8Array {
    const shard = key % this.shards
    const level = Math.floor(key / this.shards) % this.levels
    const app = Math.floor(key / this.shards / this.levels)
    const labels: Record<string, string> = {app: this.synth.appNames[app], level: this.synth.levelNames[level]}
    if (this.shards > 1) labels.shard = String(shard)
    return enc(`{"stream":${JSON.stringify(labels)},"values":[`)
  }

  encode(count: number, seqOf: (i: number) => number, timestampMs: number, out: ByteWriter): Buffer {
    const {grouper, scratch, synth} = this
    if (timestampMs !== this.timeMs) {
      this.timeMs = timestampMs
      this.timeHead = enc(`["${Math.trunc(timestampMs)}000000`)
    }

    const groups = synth.appNames.length * this.levels * this.shards
    grouper.group(count, groups, (i) => this.keyOf(seqOf(i)))
    const {order, starts} = grouper
    out.pos = 0
    out.ensure(16)
    out.bytes(OPEN)
    let first = true
    for (let key = 0; key < groups; key++) {
      if (starts[key] === starts[key + 1]) continue
      const head = this.streamHead(key)
      out.ensure(head.length + 1)
      if (!first) out.byte(44)
      first = false
      out.bytes(head)
      for (let k = starts[key]; k < starts[key + 1]; k++) {
        scratch.pos = 0
        synth.writeEntry(scratch, seqOf(order[k]), timestampMs)
        out.ensure(scratch.pos * 2 + 64)
        if (k > starts[key]) out.byte(44)
        out.bytes(this.timeHead)
        out.bytes(LINE_HEAD)
        out.jsonText(scratch.take())
        out.bytes(VALUE_CLOSE)
      }

      out.ensure(2)
      out.bytes(VALUES_CLOSE)
    }

    out.ensure(2)
    out.bytes(CLOSE)
    return out.take()
  }

  judge(response: Parameters<BatchEncoder['judge']>[0], count: number, nowEpochMs: number) {
    assertSuccess(response, nowEpochMs)
    return ackAll(count)
  }
}

export function lokiEncoder(synth: LogSynth, shards = 1): BatchEncoder {
  return new LokiPush(synth, shards)
}
