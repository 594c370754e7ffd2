/**
 * RFC 4180 CSV: a header line, then one line per row, CRLF-free ("\n"), fields
 * quoted when they hold a comma, a quote, a line break or surrounding spaces.
 * Values are written as they are (no spreadsheet-formula mangling): this output
 * is for programs.
 */
export type CsvValue = string | number | boolean | null | undefined

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return ''
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value)
  return /[",\r\n]|^\s|\s$/.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text
}

export function toCsv(head: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [head.map((name) => csvField(name)).join(',')]
  for (const row of rows) {
    if (row.length !== head.length) throw new Error(`CSV row has ${row.length} fields, header has ${head.length}`)
    lines.push(row.map((value) => csvField(value)).join(','))
  }

  return lines.join('\n') + '\n'
}
