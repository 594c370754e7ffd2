/** Layout for the human reports: tables with units in their headers, headings, colours that reinforce meaning. Numbers are formatted by lib/format/units.ts. */
import chalk from 'chalk'
import Table from 'cli-table3'

/** A table with units in its headers; borders only, no colour of its own. */
export function table(head: string[], rows: (string | number)[][], align?: ('left' | 'right')[]): string {
  const t = new Table({
    colAligns: align ?? head.map((_, i) => (i === 0 ? 'left' : 'right')),
    head,
    style: {border: [], compact: true, head: [], 'padding-left': 1, 'padding-right': 1},
  })
  for (const row of rows) t.push(row.map(String))
  return t.toString()
}

export const heading = (text: string) => chalk.bold(text)
export const good = (text: string) => chalk.green(text)
export const bad = (text: string) => chalk.red(text)
export const dim = (text: string) => chalk.dim(text)

/** "label  value" lines with the labels padded to one width. */
export function fields(entries: [string, string][], indent = '  '): string {
  const width = Math.max(...entries.map(([label]) => label.length))
  return entries.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`).join('\n')
}
