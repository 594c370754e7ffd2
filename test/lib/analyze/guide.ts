/**
 * The guide's SQL reports (reference/parallel-performance-testing-guide.md,
 * "Analyzing Results"), verbatim except for the database name, and a way to run
 * them as the guide does: clickhouse-client for the server, the engine itself
 * for the embedded store.
 */
import type {Store} from '../../../src/lib/store/index.js'

import {clickhouseClient} from '../../fixtures/clickhouse-server.js'

export const GUIDE = {
  apps: `SELECT app_id, count() as count 
FROM logs_db.logs 
GROUP BY app_id 
ORDER BY count DESC;`,
  levels: `SELECT level, count() as count 
FROM logs_db.logs 
GROUP BY level 
ORDER BY count DESC;`,
  partitions: `SELECT 
    partition,
    count() as parts,
    formatReadableSize(sum(bytes)) as size,
    sum(rows) as rows
FROM system.parts
WHERE database = 'logs_db' AND table = 'logs' AND active
GROUP BY partition
ORDER BY partition DESC
LIMIT 10;`,
  rates: `SELECT 
    toStartOfMinute(created_at) as minute,
    count() as logs_per_minute,
    round(count() / 60, 0) as logs_per_second
FROM logs_db.logs 
WHERE created_at > now() - INTERVAL 30 MINUTE
GROUP BY minute 
ORDER BY minute DESC 
LIMIT 20;`,
  size: `SELECT 
    table,
    formatReadableSize(sum(bytes)) as size,
    sum(rows) as rows,
    round(sum(bytes) / sum(rows), 2) as bytes_per_row
FROM system.parts
WHERE database = 'logs_db' AND table = 'logs' AND active
GROUP BY table;`,
  /** The size query with its one bug fixed: the alias "rows" renamed so it no longer shadows the column. */
  sizeCorrected: `SELECT 
    table,
    formatReadableSize(sum(bytes)) as size,
    sum(bytes) as size_bytes,
    sum(rows) as total_rows,
    round(sum(bytes) / sum(rows), 2) as bytes_per_row
FROM system.parts
WHERE database = 'logs_db' AND table = 'logs' AND active
GROUP BY table;`,
  total: 'SELECT count() as total_logs FROM logs_db.logs;',
}

/** Undo TabSeparated escaping (clickhouse-client's default output). */
function unescapeTsv(field: string): string {
  return field.replaceAll(/\\(.)/g, (_, ch: string) => ({'0': '\0', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'})[ch] ?? ch)
}

/**
 * Run a guide query on the test database; rows as arrays of text, columns in
 * the query's order. The server goes through clickhouse-client over the native
 * protocol when the suite started the server (its TCP port is known).
 */
export async function runGuide(store: Store, sql: string): Promise<string[][]> {
  const text = sql.replaceAll('logs_db', store.info.database).replace(/;\s*$/, '')
  const tcpPort = process.env.LOGBENCH_TEST_CLICKHOUSE_TCP_PORT
  if (store.info.kind === 'server' && tcpPort) {
    const out = clickhouseClient({tcpPort: Number(tcpPort)}, text)
    return out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t').map((field) => unescapeTsv(field)))
  }

  const rows = await store.query<Record<string, unknown>>(text)
  return rows.map((row) => Object.values(row).map((value) => String(value)))
}
