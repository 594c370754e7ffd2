/** Number and table formatting for the human reports. */
import chalk from 'chalk'
import Table from 'cli-table3'

import {byteScale, formatBytesIn} from '../format/units.js'

export const int = (n: number) => Math.round(n).toLocaleString('en-US')

/** Milliseconds with precision that fits their size: 0.412, 12.3, 1,204. */
export function msText(ms: number): string {
  if (ms === 0) return '0'
  if (ms < 1) return ms.toFixed(3)
  if (ms < 100) return ms.toFixed(1)
  return int(ms)
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`

export const percent = (part: number, whole: number) => (whole === 0 ? '0%' : `${((part / whole) * 100).toFixed(part === whole ? 0 : 1)}%`)

/** 10485760 -> "10.00 MiB". */
export function bytes(n: number): string {
  const scale = byteScale([n])
  return `${formatBytesIn(scale, n)} ${scale.unit}`
}

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
