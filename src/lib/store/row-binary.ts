/**
 * Reading back the RowBinary rows a store is given (columns in COLUMNS order: times as
 * Int64 epoch ms for DateTime64(3) or UInt32 epoch seconds for DateTime, level as Enum8
 * from 1 in LEVELS order, seq as UInt64, strings as a LEB128 length and UTF-8 bytes),
 * for the one case where a back end must take them another way: the embedded engine
 * turning a batch into JSONEachRow when its insert files cannot be written.
 */
import type {Capabilities} from './capabilities.js'

import {makeRowEncoder} from './rows.js'
import {LEVELS, type LogRow} from './types.js'

/** Thrown for bytes that are not whole rows of that layout. */
export class RowBinaryError extends Error {
  constructor(message: string) {
    super(`not RowBinary rows of the logs table: ${message}`)
    this.name = 'RowBinaryError'
  }
}

/** The rows of a RowBinary body, times in epoch ms. */
export function decodeRowBinary(body: Uint8Array, caps: Pick<Capabilities, 'dateTime64'>): LogRow[] {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const rows: LogRow[] = []
  let p = 0
  const need = (n: number) => {
    if (p + n > bytes.length) throw new RowBinaryError(`a row is cut short at byte ${p}`)
  }

  const time = () => {
    if (caps.dateTime64) {
      need(8)
      const ms = Number(bytes.readBigInt64LE(p))
      p += 8
      return ms
    }

    need(4)
    const seconds = bytes.readUInt32LE(p)
    p += 4
    return seconds * 1000
  }

  const str = () => {
    let length = 0
    for (let shift = 0; ; shift += 7) {
      need(1)
      const byte = bytes[p++]
      length += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) break
      if (shift > 28) throw new RowBinaryError(`a string length runs on at byte ${p}`)
    }

    need(length)
    const text = bytes.toString('utf8', p, p + length)
    p += length
    return text
  }

  while (p < bytes.length) {
    const timestamp = time()
    const createdAt = time()
    const appId = str()
    need(1)
    const level = LEVELS[bytes[p++] - 1]
    if (level === undefined) throw new RowBinaryError(`level ${bytes[p - 1]} at byte ${p - 1}`)
    const message = str()
    const source = str()
    const metadata = str()
    const runId = str()
    need(8)
    const seq = Number(bytes.readBigUInt64LE(p))
    p += 8
    rows.push({app_id: appId, batch_id: str(), created_at: createdAt, level, message, metadata, run_id: runId, seq, source, timestamp})
  }

  return rows
}

/** A RowBinary body as the JSONEachRow body holding the same rows. */
export function rowBinaryToJsonEachRow(body: Uint8Array, caps: Pick<Capabilities, 'dateTime64'>): string {
  const encode = makeRowEncoder(caps)
  let out = ''
  for (const row of decodeRowBinary(body, caps)) out += encode(row)
  return out
}
