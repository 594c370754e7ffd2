/**
 * Elasticsearch _bulk (NDJSON): an action line {"create":{"_index":NAME}} and
 * the document (the default shape or the body template) for each log. "create"
 * is the action data streams require, and works on plain indices too.
 *
 * The answer lists every item with its status, in the order they were sent:
 * 2xx items are acknowledged, 429 items are sent again alone (never the whole
 * request), every other status fails that item for good (class http_<status>,
 * the item's error as the sample).
 */
import type {Ack, BatchEncoder} from './ack.js'

import {type LogSynth} from '../generate/synth.js'
import {ackAll, assertSuccess, snippet} from './ack.js'

export const BULK_PATH = '/_bulk'
export const DEFAULT_INDEX = 'logbench'
/** An index or data stream name as Elasticsearch allows it (lower case, no path characters). */
export const INDEX_NAME = /^[a-z0-9][a-z0-9._+-]{0,254}$/

interface BulkItem {
  status?: number
  error?: {type?: string; reason?: string} | string
}

class Bulk implements BatchEncoder {
  readonly contentType = 'application/x-ndjson'
  /** The answer names every item. */
  readonly maxResponseBytes = 256 * 1024 * 1024
  private readonly action: Uint8Array

  constructor(
    private readonly synth: LogSynth,
    index: string,
  ) {
    this.action = Buffer.from(`${JSON.stringify({create: {_index: index}})}\n`)
  }

  encode(count: number, seqOf: (i: number) => number, timestampMs: number, out: Parameters<BatchEncoder['encode']>[3]): Buffer {
    const {action, synth} = this
    out.pos = 0
    for (let i = 0; i < count; i++) {
      out.ensure(action.length + 1)
      out.bytes(action)
      synth.writeEntry(out, seqOf(i), timestampMs)
      out.ensure(1)
      out.byte(10)
    }

    return out.take()
  }

  judge(response: Parameters<BatchEncoder['judge']>[0], count: number, nowEpochMs: number): Ack {
    assertSuccess(response, nowEpochMs)
    const text = response.body
    if (/"errors"\s*:\s*false/.test(text.slice(0, 256))) return ackAll(count)
    let items: Record<string, BulkItem>[] | undefined
    try {
      items = (JSON.parse(text) as {items?: Record<string, BulkItem>[]}).items
    } catch {
      items = undefined
    }

    if (!Array.isArray(items) || items.length !== count) {
      const why = Array.isArray(items) ? `${items.length} items for ${count} documents` : 'no item list'
      return {acked: 0, failed: [{cls: 'other', count, sample: `unreadable _bulk answer (${why}): ${snippet(text)}`}]}
    }

    const ack: Ack = {acked: 0, failed: []}
    const failed = new Map<string, {count: number; sample?: string}>()
    const retry: number[] = []
    let retrySample: string | undefined
    items.forEach((entry, position) => {
      const item = Object.values(entry ?? {})[0] ?? {}
      const status = Number(item.status)
      if (status >= 200 && status < 300) {
        ack.acked++
        return
      }

      const reason = typeof item.error === 'string' ? item.error : item.error ? `${item.error.type ?? 'error'}: ${item.error.reason ?? ''}` : ''
      const sample = `_bulk item ${status || '(no status)'}${reason ? `: ${snippet(reason)}` : ''}`
      if (status === 429) {
        retry.push(position)
        retrySample ??= sample
        return
      }

      const cls = Number.isFinite(status) && status > 0 ? `http_${status}` : 'other'
      const entryOf = failed.get(cls) ?? {count: 0, sample}
      entryOf.count++
      failed.set(cls, entryOf)
    })
    ack.failed = [...failed.entries()].map(([cls, {count: n, sample}]) => ({cls, count: n, sample}))
    if (retry.length > 0) ack.retry = {cls: 'http_429', positions: retry, sample: retrySample}
    return ack
  }
}

export function bulkEncoder(synth: LogSynth, index = DEFAULT_INDEX): BatchEncoder {
  return new Bulk(synth, index)
}
