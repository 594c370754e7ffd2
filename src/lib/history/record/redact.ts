/**
 * What a record keeps of a command line and a URL: never a password, a token
 * or a header value. Records are shared (a history server, a CI artifact), so
 * secrets are removed before anything is written.
 */

const SECRET_PARAM = /key|token|secret|pass|auth|sig|credential/i

/** A URL without its user info and with secret-looking query values replaced; text that is not a URL as it is. */
export function redactUrl(text: string): string {
  if (!URL.canParse(text)) return text
  const url = new URL(text)
  const secrets = [...url.searchParams.keys()].filter((name) => SECRET_PARAM.test(name))
  // Nothing to hide: the text as it was typed.
  if (!url.username && !url.password && secrets.length === 0) return text
  url.username = ''
  url.password = ''
  for (const name of secrets) url.searchParams.set(name, '***')
  return url.href
}

/** Flags whose whole value is a secret, and flags that carry a header (its name is kept). */
const SECRET_FLAGS = new Set(['--clickhouse-password', '--token', '--password'])
const HEADER_FLAGS = new Set(['--header', '-H'])

const redactHeader = (value: string) => {
  const colon = value.indexOf(':')
  return colon === -1 ? '***' : `${value.slice(0, colon)}: ***`
}

function redactValue(flag: string, value: string): string {
  if (SECRET_FLAGS.has(flag)) return '***'
  if (HEADER_FLAGS.has(flag)) return redactHeader(value)
  return redactUrl(value)
}

/** The command line with every secret value replaced by ***. */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const eq = arg.indexOf('=')
    if (arg.startsWith('-') && eq > 0) {
      out.push(`${arg.slice(0, eq)}=${redactValue(arg.slice(0, eq), arg.slice(eq + 1))}`)
      continue
    }

    if ((SECRET_FLAGS.has(arg) || HEADER_FLAGS.has(arg)) && i + 1 < argv.length) {
      out.push(arg, redactValue(arg, argv[++i]))
      continue
    }

    out.push(redactUrl(arg))
  }

  return out
}
