import type {Capabilities} from './capabilities.js'
import type {LogRow} from './types.js'

/**
 * JSONEachRow encoding of a row, in COLUMNS order. Times go as numbers (epoch
 * milliseconds for DateTime64(3), seconds for DateTime), which both engines parse
 * without a time-zone ambiguity.
 */
export type RowEncoder = (row: LogRow) => string

export function makeRowEncoder(caps: Pick<Capabilities, 'dateTime64'>): RowEncoder {
  const time = caps.dateTime64 ? (ms: number) => Math.trunc(ms) : (ms: number) => Math.floor(ms / 1000)
  return (row) =>
    '{"timestamp":' +
    time(row.timestamp) +
    ',"created_at":' +
    time(row.created_at) +
    ',"app_id":' +
    JSON.stringify(row.app_id) +
    ',"level":"' +
    row.level +
    '","message":' +
    JSON.stringify(row.message) +
    ',"source":' +
    JSON.stringify(row.source) +
    ',"metadata":' +
    JSON.stringify(row.metadata) +
    ',"run_id":' +
    JSON.stringify(row.run_id) +
    ',"seq":' +
    row.seq +
    ',"batch_id":' +
    JSON.stringify(row.batch_id) +
    '}\n'
}

/** SQL expression giving a time column as epoch milliseconds, on any version. */
export function epochMsExpr(column: string, caps: Pick<Capabilities, 'dateTime64'>): string {
  return caps.dateTime64 ? `toUnixTimestamp64Milli(${column})` : `toUInt64(toUnixTimestamp(${column})) * 1000`
}
