import type {ColumnSize, PartitionsReport, SizeReport} from './types.js'

import {limitPlusOne, type ReportContext} from './context.js'

/*
 * Table size from system.parts. The guide's query,
 *   SELECT table, formatReadableSize(sum(bytes)) AS size, sum(rows) AS rows,
 *          round(sum(bytes) / sum(rows), 2) AS bytes_per_row ...
 * fails on every version: the alias `rows` shadows the column, so the second
 * sum(rows) becomes sum(sum(rows)) ("aggregate function found inside another
 * aggregate function"). Every alias below differs from every column name of
 * system.parts, and ratios are computed here, where a zero is handled.
 * Size reports describe the whole table: row filters do not apply.
 */

interface PartsTotals {
  part_count: number
  row_count: number
  disk_bytes: number
  compressed: number
  uncompressed: number
}

function tableParams(ctx: ReportContext): {s_db: string; s_table: string} {
  return {s_db: ctx.store.info.database, s_table: ctx.store.info.table}
}

const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null)

export async function sizeReport(ctx: ReportContext): Promise<SizeReport> {
  const [row] = await ctx.store.query<PartsTotals>(
    `SELECT count() AS part_count, sum(rows) AS row_count, sum(bytes_on_disk) AS disk_bytes,
            sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed
     FROM system.parts
     WHERE database = {s_db:String} AND table = {s_table:String} AND active`,
    tableParams(ctx),
    {signal: ctx.signal},
  )
  const report: SizeReport = {
    bytesOnDisk: row.disk_bytes,
    bytesPerRow: ratio(row.disk_bytes, row.row_count),
    compressedBytes: row.compressed,
    compressionRatio: ratio(row.uncompressed, row.compressed),
    parts: row.part_count,
    rows: row.row_count,
    uncompressedBytes: row.uncompressed,
  }
  if (ctx.options.columns) Object.assign(report, await columnSizes(ctx))
  return report
}

/**
 * Per-column sizes from system.parts_columns (ClickHouse 18.16 and current).
 * Newer servers write small parts in the compact format, one file for all
 * columns, for which no per-column size exists; those parts are detected
 * through system.parts.part_type where the server has it, and the report says
 * which share of the rows the per-column figures cover.
 */
async function columnSizes(ctx: ReportContext): Promise<Pick<SizeReport, 'columns' | 'columnsNote'>> {
  const query = <T>(sql: string, params: Record<string, string> = tableParams(ctx)) => ctx.store.query<T>(sql, params, {signal: ctx.signal})
  const declared = await query<{name: string; type: string}>(
    'SELECT name, type FROM system.columns WHERE database = {s_db:String} AND table = {s_table:String}',
  )
  const sizes = await query<{column: string; compressed: number; uncompressed: number; disk_bytes: number}>(
    `SELECT column, sum(column_data_compressed_bytes) AS compressed, sum(column_data_uncompressed_bytes) AS uncompressed,
            sum(column_bytes_on_disk) AS disk_bytes
     FROM system.parts_columns
     WHERE database = {s_db:String} AND table = {s_table:String} AND active
     GROUP BY column`,
  )
  const [{n: hasPartType}] = await query<{n: number}>(
    "SELECT count() AS n FROM system.columns WHERE database = 'system' AND table = 'parts' AND name = 'part_type'",
    {},
  )
  let compact = {compact_parts: 0, compact_rows: 0, part_count: 0, row_count: 0}
  if (hasPartType > 0) {
    ;[compact] = await query<typeof compact>(
      `SELECT countIf(part_type != 'Wide') AS compact_parts, sumIf(rows, part_type != 'Wide') AS compact_rows,
              count() AS part_count, sum(rows) AS row_count
       FROM system.parts WHERE database = {s_db:String} AND table = {s_table:String} AND active`,
    )
  }

  const allCompact = compact.compact_parts > 0 && compact.compact_parts === compact.part_count
  const bySize = new Map(sizes.map((size) => [size.column, size]))
  const totalCompressed = sizes.reduce((sum, size) => sum + size.compressed, 0)
  const columns: ColumnSize[] = declared.map(({name, type}) => {
    const size = bySize.get(name)
    if (!size || allCompact) {
      return {bytesOnDisk: null, column: name, compressedBytes: null, compressionRatio: null, share: null, type, uncompressedBytes: null}
    }

    return {
      bytesOnDisk: size.disk_bytes,
      column: name,
      compressedBytes: size.compressed,
      compressionRatio: ratio(size.uncompressed, size.compressed),
      share: ratio(size.compressed, totalCompressed),
      type,
      uncompressedBytes: size.uncompressed,
    }
  })
  columns.sort((a, b) => (b.compressedBytes ?? -1) - (a.compressedBytes ?? -1))

  let columnsNote: string | undefined
  if (allCompact) {
    columnsNote =
      `all ${compact.part_count} active parts are compact (one file for every column), so ClickHouse keeps no per-column sizes; ` +
      'they appear once merges write wide parts (parts above the min_bytes_for_wide_part setting, 10 MiB by default)'
  } else if (compact.compact_parts > 0) {
    columnsNote =
      `per-column sizes cover the ${compact.part_count - compact.compact_parts} wide parts ` +
      `(${compact.row_count - compact.compact_rows} of ${compact.row_count} rows); ${compact.compact_parts} compact parts keep no per-column sizes`
  }

  return columnsNote ? {columns, columnsNote} : {columns}
}

/** The guide's "Partition Information" (it works as written), with compressed sizes, newest partition first. */
export async function partitionsReport(ctx: ReportContext): Promise<PartitionsReport> {
  const rows = await ctx.store.query<PartsTotals & {partition: string}>(
    `SELECT partition, count() AS part_count, sum(rows) AS row_count, sum(bytes_on_disk) AS disk_bytes,
            sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed
     FROM system.parts
     WHERE database = {s_db:String} AND table = {s_table:String} AND active
     GROUP BY partition ORDER BY partition DESC ${limitPlusOne(ctx.options.limit)}`,
    tableParams(ctx),
    {signal: ctx.signal},
  )
  return {
    rows: rows.slice(0, ctx.options.limit).map((row) => ({
      bytesOnDisk: row.disk_bytes,
      compressedBytes: row.compressed,
      partition: row.partition,
      parts: row.part_count,
      rows: row.row_count,
      uncompressedBytes: row.uncompressed,
    })),
    truncated: rows.length > ctx.options.limit,
  }
}
