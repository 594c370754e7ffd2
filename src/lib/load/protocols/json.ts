/**
 * The JSON shapes (a JSON array, {"logs": […]}, NDJSON) of entries in the
 * default shape or the body template. A 2xx acknowledges the batch; a body
 * {"accepted": n} with n below the count fails the batch (class "partial"),
 * since it does not say which of its logs were taken.
 */
import type {Ack, BatchEncoder} from './ack.js'
import type {LogSynth, Payload} from '../generate/synth.js'

import {assertSuccess} from './ack.js'

export function jsonEncoder(synth: LogSynth, payload: Payload): BatchEncoder {
  return {
    contentType: payload === 'ndjson' ? 'application/x-ndjson' : 'application/json',
    encode: (count, seqOf, timestampMs, out) => synth.batchOf(count, seqOf, payload, timestampMs, out),
    judge(response, count, nowEpochMs): Ack {
      assertSuccess(response, nowEpochMs)
      const text = response.body
      if (text.length > 0 && text.length < 4096 && text.charCodeAt(0) === 123 /* { */ && text.includes('"accepted"')) {
        let accepted: unknown
        try {
          accepted = (JSON.parse(text) as {accepted?: unknown}).accepted
        } catch {
          return {acked: count, failed: []}
        }

        if (typeof accepted === 'number' && accepted < count) {
          return {acked: 0, failed: [{cls: 'partial', count, sample: `the target accepted ${accepted} of ${count} logs`}]}
        }
      }

      return {acked: count, failed: []}
    },
    maxResponseBytes: 16 * 1024,
  }
}
