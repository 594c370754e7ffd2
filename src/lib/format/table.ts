import chalk from 'chalk'
import Table from 'cli-table3'

export type Align = 'left' | 'right'

export interface TableSpec {
  /** Column headers; units belong here ("on disk (MiB)", "logs/s"). */
  head: readonly string[]
  rows: readonly (readonly string[])[]
  /** Per column; numbers are right-aligned by convention. Default left. */
  align?: readonly Align[]
  /** Printed under the header when there are no rows. Default "(no rows)". */
  empty?: string
}

/**
 * A cli-table3 table. Cells arrive already formatted (and sanitised with
 * displayText where they come from the data); colour only emphasises the
 * header and is off whenever chalk is (non-TTY, --no-color, NO_COLOR).
 */
export function renderTable(spec: TableSpec): string {
  const table = new Table({
    colAligns: spec.head.map((_, i) => spec.align?.[i] ?? 'left'),
    head: spec.head.map((text) => chalk.bold(text)),
    style: {border: [], compact: true, head: [], 'padding-left': 1, 'padding-right': 1},
    wordWrap: false,
  })
  for (const row of spec.rows) table.push([...row])
  return spec.rows.length > 0 ? table.toString() : `${table.toString()}\n${chalk.dim(spec.empty ?? '(no rows)')}`
}

/** A two-column "name  value" table for one-row reports. */
export function renderKeyValue(pairs: readonly (readonly [string, string])[]): string {
  const table = new Table({
    colAligns: ['left', 'right'],
    style: {border: [], compact: true, head: [], 'padding-left': 1, 'padding-right': 1},
    wordWrap: false,
  })
  for (const [name, value] of pairs) table.push([chalk.bold(name), value])
  return table.toString()
}
