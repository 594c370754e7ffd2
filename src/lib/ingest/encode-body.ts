/**
 * Request body -> insert body: the one entry point. A body must be valid UTF-8
 * (a replaced byte would store text that was never sent); then the fast path
 * (body-scanner.ts) encodes it when it has the common shape, and the general
 * path (validate.ts) decides everything else.
 */
import {isUtf8} from 'node:buffer'

import type {RowWriter} from './row-format.js'

import {scanBody} from './body-scanner.js'
import {type BodyFormat, type EncodeContext, type EncodeResult, encodeEntries, parseBody} from './validate.js'

/** Offset of the first byte that does not start a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(body: Uint8Array): number {
  for (let i = 0; i < body.length; ) {
    const c = body[i]
    const more = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1
    if (more < 0 || (more > 0 && !isUtf8(body.subarray(i, i + more + 1)))) return i
    i += more + 1
  }

  return -1
}

/** `fast: false` takes the general path for every body (the tests compare both paths). */
export function encodeBody(body: Buffer, format: BodyFormat, ctx: EncodeContext, w: RowWriter, options: {fast?: boolean} = {}): EncodeResult {
  if (!isUtf8(body)) {
    const at = firstInvalidUtf8(body)
    return {
      details: [{field: '', index: -1, reason: `invalid UTF-8 byte sequence at byte ${at}`}],
      error: 'body is not valid UTF-8; nothing from this request was stored',
      ok: false,
      status: 400,
    }
  }

  const rows = options.fast === false ? -1 : scanBody(body, format, ctx, w)
  if (rows > 0) return {encoded: w.take(), ok: true, rows}
  w.reset()
  const parsed = parseBody(body.toString('utf8'), format)
  if ('error' in parsed) return {details: parsed.details, error: parsed.error, ok: false, status: 400}
  return encodeEntries(parsed.entries, ctx, w)
}
