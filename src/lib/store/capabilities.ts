/**
 * ClickHouse features differ by version. They are computed once from the
 * server's version string and consulted by name; nothing else compares versions.
 */
export interface Capabilities {
  /** LowCardinality(String) columns without an experimental setting (19.9). */
  lowCardinality: boolean
  /** DateTime64 with sub-second precision, and toUnixTimestamp64Milli to read it (20.5). */
  dateTime64: boolean
  /** Column compression codecs, CODEC(...) (19.1). */
  codecs: boolean
  /** Table TTL (19.6). */
  ttl: boolean
  /** Lightweight `DELETE FROM` (23.3). */
  lightweightDelete: boolean
  /** Server-side query parameters `{name:Type}` over HTTP (19.11). */
  queryParameters: boolean
  /** async_insert setting (21.11). */
  asyncInsert: boolean
  /** insert_deduplication_token with non-replicated MergeTree dedup window (22.2). */
  insertDedupToken: boolean
  /** JSONExtract* functions over JSON text (20.1; older servers have visitParamExtract*). */
  jsonExtract: boolean
  /** JSONCompactEachRow input/output format (19.6). */
  jsonCompactEachRow: boolean
  /** `mutations_sync` setting so ALTER ... DELETE can wait (19.9 single server). */
  mutationsSync: boolean
  /** groupBitmap: an exact count of distinct integers in a compressed bitmap, a bit a value where uniqExact holds a hash set (20.1). */
  groupBitmap: boolean
}

export type CapabilityName = keyof Capabilities

export interface Version {
  major: number
  minor: number
  patch: number
  text: string
}

export function parseVersion(text: string): Version {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim())
  if (!match) throw new Error(`cannot parse ClickHouse version "${text}"`)
  return {major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0), text: text.trim()}
}

function atLeast(version: Version, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor)
}

const introducedIn: Record<CapabilityName, [number, number]> = {
  asyncInsert: [21, 11],
  codecs: [19, 1],
  // DateTime64 came in 20.1, toUnixTimestamp64Milli (how it is read back) in 20.5.
  dateTime64: [20, 5],
  groupBitmap: [20, 1],
  insertDedupToken: [22, 2],
  jsonCompactEachRow: [19, 6],
  jsonExtract: [20, 1],
  lightweightDelete: [23, 3],
  lowCardinality: [19, 9],
  mutationsSync: [19, 9],
  queryParameters: [19, 11],
  ttl: [19, 6],
}

export function capabilitiesFor(version: Version): Capabilities {
  const caps = {} as Capabilities
  for (const [name, [major, minor]] of Object.entries(introducedIn) as [CapabilityName, [number, number]][]) {
    caps[name] = atLeast(version, major, minor)
  }

  return caps
}
