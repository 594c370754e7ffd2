/**
 * SQL text helpers. No user input is ever concatenated into SQL except through
 * `quoteIdentifier` (after validation) or `bindParams` (escaped literals, used
 * only where the server has no query parameters).
 */

import {usageError} from '../errors.js'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name)
}

export function assertIdentifier(name: string, what: string): string {
  if (!isIdentifier(name)) {
    throw usageError(
      `${what} "${name}" is not a valid identifier`,
      'use letters, digits and underscores, starting with a letter or underscore (at most 64 characters)',
    )
  }

  return name
}

/** Backquoted identifier, for names already validated by assertIdentifier. */
export function quoteIdentifier(name: string): string {
  return '`' + assertIdentifier(name, 'identifier') + '`'
}

/** A ClickHouse string literal: every byte that could end or alter the literal is escaped. */
export function quoteString(value: string): string {
  let out = "'"
  for (const ch of value) {
    switch (ch) {
      case '\\': {
        out += '\\\\'
        break
      }

      case "'": {
        out += "\\'"
        break
      }

      case '\n': {
        out += '\\n'
        break
      }

      case '\r': {
        out += '\\r'
        break
      }

      case '\t': {
        out += '\\t'
        break
      }

      case '\0': {
        out += '\\0'
        break
      }

      default: {
        out += ch
      }
    }
  }

  return out + "'"
}

export type ParamValue = string | number | bigint | boolean | Date | readonly (string | number)[]

/** A literal of the declared type for a value. */
export function literal(value: ParamValue, type: string): string {
  const base = type.replace(/^Nullable\((.*)\)$/, '$1')
  if (Array.isArray(value)) {
    const inner = /^Array\((.*)\)$/.exec(base)?.[1] ?? 'String'
    return '[' + value.map((item) => literal(item, inner)).join(', ') + ']'
  }

  if (value instanceof Date) return literal(Math.floor(value.getTime() / 1000), base)
  if (/^(U?Int\d+|Float\d+|Decimal.*)$/.test(base)) {
    const text = String(value)
    if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) throw new TypeError(`"${text}" is not a number for ${type}`)
    return text
  }

  if (base === 'DateTime' || base.startsWith('DateTime(')) {
    if (typeof value === 'number' || typeof value === 'bigint') return `toDateTime(${String(value)})`
    return `toDateTime(${quoteString(String(value))})`
  }

  return quoteString(String(value))
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}/g

/**
 * Replace `{name:Type}` placeholders with escaped literals, for servers without
 * query parameters. Every placeholder needs a value; unused values are an error
 * too, so a typo never silently drops a filter.
 */
export function bindParams(sql: string, params: Record<string, ParamValue>): string {
  const used = new Set<string>()
  const out = sql.replace(PLACEHOLDER, (_match, name: string, type: string) => {
    if (!(name in params)) throw new TypeError(`query parameter "${name}" has no value`)
    used.add(name)
    return literal(params[name], type.trim())
  })
  for (const name of Object.keys(params)) {
    if (!used.has(name)) throw new TypeError(`query parameter "${name}" is not used by the query`)
  }

  return out
}

/** Parameters in the text form the HTTP interface and chDB expect (`param_name=value`). */
export function paramText(value: ParamValue): string {
  if (Array.isArray(value)) return '[' + value.map((item) => (typeof item === 'number' ? String(item) : quoteString(item))).join(',') + ']'
  if (value instanceof Date) return String(Math.floor(value.getTime() / 1000))
  return String(value)
}
