/**
 * Body templates: the user's own field names and nesting, as a JSON file with
 * placeholders for the generated values, e.g.
 *
 *   {"ts": "{{timestamp:ms}}", "service": {"name": "{{app}}"}, "severity": "{{level}}",
 *    "msg": "{{message}}", "trace": {"run": "{{run_id}}", "n": "{{seq}}"}, "user": "u-{{id:5000}}",
 *    "team": "checkout"}
 *
 * The file is read and compiled once into parts: static text, already JSON-encoded
 * as bytes, and placeholder codes that the generator writes straight into the
 * batch buffer. A string that is exactly one numeric placeholder (seq, timestamp
 * in ms, s or ns) becomes a JSON number; every other placeholder is written
 * inside its string.
 */
import {readFile} from 'node:fs/promises'

import {usageError} from '../../errors.js'

/** Placeholder codes, in the order the generator switches on them. */
export const Slot = {App: 0, Level: 1, Message: 2, Source: 3, RunId: 4, Seq: 5, TimeIso: 6, TimeMs: 7, TimeS: 8, TimeNs: 9, Id: 10} as const
export type Slot = (typeof Slot)[keyof typeof Slot]

export interface Placeholder {
  slot: Slot
  /** Slot.Id: how many distinct ids. */
  cardinality: number
}

export type TemplatePart = Uint8Array | Placeholder

export interface BodyTemplate {
  /** Where it was read from (for the report). */
  file: string
  /** Its text, as read: the workers of `parallel` compile it again from this. */
  source: string
  parts: TemplatePart[]
  /** Bytes of static text in one entry. */
  staticBytes: number
  /** Placeholders in one entry, and of them {{message}}. */
  placeholders: number
  messages: number
}

const NUMERIC = new Set<Slot>([Slot.Seq, Slot.TimeMs, Slot.TimeS, Slot.TimeNs])
/** Most ids a {{id:N}} may draw from (the generator draws 30-bit integers). */
export const MAX_ID_CARDINALITY = 2 ** 30

const NAMES = 'app, level, message, source, run_id, seq, timestamp (:iso, :ms, :s, :ns), id:N'

function parsePlaceholder(inner: string): Placeholder | string {
  const [name, arg, ...rest] = inner.trim().split(':')
  if (rest.length > 0) return `{{${inner}}} has more than one ":"`
  const simple: Record<string, Slot> = {app: Slot.App, level: Slot.Level, message: Slot.Message, run_id: Slot.RunId, seq: Slot.Seq, source: Slot.Source}
  if (name in simple) return arg === undefined ? {cardinality: 0, slot: simple[name]} : `{{${inner}}}: ${name} takes no argument`
  if (name === 'timestamp') {
    const formats: Record<string, Slot> = {iso: Slot.TimeIso, ms: Slot.TimeMs, ns: Slot.TimeNs, s: Slot.TimeS}
    const slot = formats[arg ?? 'iso']
    return slot === undefined ? `{{${inner}}}: the timestamp format is iso, ms, s or ns` : {cardinality: 0, slot}
  }

  if (name === 'id') {
    const n = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : Number.NaN
    if (!(n >= 1 && n <= MAX_ID_CARDINALITY)) return `{{${inner}}}: give the number of distinct ids, 1 to ${MAX_ID_CARDINALITY}, e.g. {{id:1000}}`
    return {cardinality: n, slot: Slot.Id}
  }

  return `unknown placeholder {{${inner}}}`
}

function lineOf(text: string, index: number): {line: number; column: number} {
  let line = 1
  let start = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++
    start = i + 1
  }

  return {column: index - start + 1, line}
}

/**
 * Where JSON text goes wrong, for the error message (JSON.parse does not always
 * say): a scan of the JSON grammar that stops at the first character it cannot take.
 */
function syntaxErrorOf(text: string): {index: number; reason: string} {
  let i = 0
  const fail = (reason: string): never => {
    throw Object.assign(new Error(reason), {index: i})
  }

  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++
  }

  const found = () => (i < text.length ? `unexpected ${JSON.stringify(text[i])}` : 'unexpected end of the file')
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length
    else fail(found())
  }

  const string = () => {
    i++
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail('a control character (a line break?) inside a string')
      if (text[i] === '\\') {
        i++
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 4
        else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail('a bad escape in a string')
      }

      i++
    }

    if (i >= text.length) fail('a string is not closed')
    i++
  }

  const value = (): void => {
    space()
    const ch = text[i]
    if (ch === '{') {
      i++
      space()
      if (text[i] === '}') {
        i++
        return
      }

      for (;;) {
        space()
        if (text[i] !== '"') fail(`${found()}: a key in double quotes was expected`)
        string()
        space()
        if (text[i] !== ':') fail(`${found()}: ":" was expected after the key`)
        i++
        value()
        space()
        if (text[i] === ',') {
          i++
          continue
        }

        if (text[i] === '}') {
          i++
          return
        }

        fail(`${found()}: "," or "}" was expected`)
      }
    }

    if (ch === '[') {
      i++
      space()
      if (text[i] === ']') {
        i++
        return
      }

      for (;;) {
        value()
        space()
        if (text[i] === ',') {
          i++
          continue
        }

        if (text[i] === ']') {
          i++
          return
        }

        fail(`${found()}: "," or "]" was expected`)
      }
    }

    if (ch === '"') return string()
    if (ch === 't') return literal('true')
    if (ch === 'f') return literal('false')
    if (ch === 'n') return literal('null')
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (number) {
      i += number[0].length
      return
    }

    fail(`${found()}: a value was expected`)
  }

  try {
    value()
    space()
    if (i < text.length) fail(`${found()} after the end of the object`)
  } catch (error) {
    return {index: (error as {index: number}).index, reason: (error as Error).message}
  }

  return {index: 0, reason: 'not JSON'}
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g

/** Compile the text of a template; `file` names it in errors. */
export function parseTemplate(text: string, file: string): BodyTemplate {
  const hint = `placeholders: ${NAMES}`
  // Placeholders are checked in the text itself, so an error can name its line.
  for (const match of text.matchAll(PLACEHOLDER)) {
    const parsed = parsePlaceholder(match[1])
    if (typeof parsed === 'string') throw usageError(`--template ${file}, line ${lineOf(text, match.index).line}: ${parsed}`, hint)
  }

  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    const {index, reason} = syntaxErrorOf(text)
    const where = lineOf(text, index)
    throw usageError(`--template ${file} is not JSON, line ${where.line} column ${where.column}: ${reason}`, 'the template is one JSON object, e.g. {"msg": "{{message}}", "level": "{{level}}"}')
  }

  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw usageError(`--template ${file} must be one JSON object (an entry), not ${Array.isArray(value) ? 'an array' : typeof value}`, '--payload chooses the envelope around the entries')
  }

  const parts: TemplatePart[] = []
  let pending = ''
  const flush = () => {
    if (pending) parts.push(Buffer.from(pending))
    pending = ''
  }

  const placeholder = (p: Placeholder) => {
    flush()
    parts.push(p)
  }

  const walkString = (s: string) => {
    const matches = [...s.matchAll(PLACEHOLDER)]
    if (matches.length === 1 && matches[0][0] === s) {
      const p = parsePlaceholder(matches[0][1]) as Placeholder
      if (NUMERIC.has(p.slot)) return placeholder(p)
    }

    pending += '"'
    let last = 0
    for (const match of matches) {
      pending += JSON.stringify(s.slice(last, match.index)).slice(1, -1)
      placeholder(parsePlaceholder(match[1]) as Placeholder)
      last = match.index + match[0].length
    }

    pending += `${JSON.stringify(s.slice(last)).slice(1, -1)}"`
  }

  const walk = (node: unknown, path: string) => {
    if (typeof node === 'string') return walkString(node)
    if (node === null || typeof node !== 'object') {
      pending += JSON.stringify(node)
      return
    }

    if (Array.isArray(node)) {
      pending += '['
      node.forEach((item, i) => {
        if (i > 0) pending += ','
        walk(item, `${path}[${i}]`)
      })
      pending += ']'
      return
    }

    pending += '{'
    Object.entries(node as Record<string, unknown>).forEach(([key, item], i) => {
      if (PLACEHOLDER.test(key)) {
        PLACEHOLDER.lastIndex = 0
        throw usageError(`--template ${file}, line ${lineOf(text, text.indexOf(key)).line}: the key "${key}" holds a placeholder`, 'placeholders go in values; keys are written as they are')
      }

      if (i > 0) pending += ','
      pending += `${JSON.stringify(key)}:`
      walk(item, `${path}.${key}`)
    })
    pending += '}'
  }

  walk(value, '')
  flush()
  const placeholders = parts.filter((part): part is Placeholder => !(part instanceof Uint8Array))
  return {
    file,
    messages: placeholders.filter((p) => p.slot === Slot.Message).length,
    parts,
    source: text,
    placeholders: placeholders.length,
    staticBytes: parts.reduce((sum, part) => sum + (part instanceof Uint8Array ? part.length : 0), 0),
  }
}

/** Read and compile a template file (usage errors for a missing file, bad JSON or an unknown placeholder). */
export async function loadTemplate(file: string): Promise<BodyTemplate> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw usageError(`--template ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }

  return parseTemplate(text, file)
}
