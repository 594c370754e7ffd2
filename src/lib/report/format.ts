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

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g

/** The width a terminal shows: without colour codes. */
export const visibleLength = (text: string) => text.replaceAll(ANSI, '').length

/**
 * Prose wrapped at word boundaries to `width` columns, the first line after `first`, the others after
 * `rest` (so a list stays readable); colour codes count for nothing. No width: one line, as it is.
 */
export function wrap(text: string, width: number | undefined, first = '', rest = first): string {
  if (!width || visibleLength(first + text) <= width) return first + text
  const lines: string[] = []
  let line = first
  let empty = true
  for (const word of text.split(' ')) {
    if (!empty && visibleLength(line) + 1 + visibleLength(word) > width) {
      lines.push(line)
      line = rest + word
      continue
    }

    line += (empty ? '' : ' ') + word
    empty = false
  }

  lines.push(line)
  return lines.join('\n')
}

/** "label  value" lines with the labels padded to one width; a long value wraps under itself when a width is given. */
export function fields(entries: [string, string][], indent = '  ', width?: number): string {
  const labelWidth = Math.max(...entries.map(([label]) => label.length))
  const hang = ' '.repeat(indent.length + labelWidth + 2)
  return entries.map(([label, value]) => wrap(value, width, `${indent}${label.padEnd(labelWidth)}  `, hang)).join('\n')
}
