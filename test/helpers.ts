/**
 * Shared test helpers: the two back ends under test, temp dirs, running the built CLI.
 */
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {openStore, type Store, type StoreOptions} from '../src/lib/store/index.js'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const binPath = path.join(repoRoot, 'bin', 'run.js')

export function serverUrl(): string | undefined {
  return process.env.LOGBENCH_TEST_CLICKHOUSE_URL
}

export function tempDir(prefix = 'logbench-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** A database name of its own for each test file, so suites never see each other's rows. */
export function uniqueDatabase(prefix = 'lbtest'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
}

export interface BackendCase {
  name: 'server' | 'embedded'
  /** Store options for this back end, or undefined when it is not available (skip). */
  options(database: string): StoreOptions | undefined
  cleanup(): void
}

/**
 * The two back ends every store test runs on. The embedded engine allows one
 * data directory per process, so it uses one directory for the whole run.
 */
let embeddedDir: string | undefined
export const backends: BackendCase[] = [
  {
    cleanup() {},
    name: 'server',
    options: (database) => {
      const url = serverUrl()
      return url ? {clickhouseUrl: url, database} : undefined
    },
  },
  {
    // The engine holds one data directory per process, and a suite that left a store open would keep
    // it: so the whole run shares one directory (each test in databases of its own), removed at exit.
    cleanup() {},
    name: 'embedded',
    options(database) {
      if (!embeddedDir) {
        const dir = tempDir('logbench-embedded-')
        embeddedDir = dir
        process.once('exit', () => rmSync(dir, {force: true, recursive: true}))
      }

      return {dataDir: embeddedDir, database}
    },
  },
]

/** Open a store on a back end, with a fresh database. */
export async function openTestStore(backend: BackendCase, database = uniqueDatabase()): Promise<Store | undefined> {
  const options = backend.options(database)
  return options ? openStore(options) : undefined
}

/** A store on the suite's embedded data directory (one per process), in a database and table of the test's own. */
export function openEmbeddedStore(database: string, table?: string): Promise<Store> {
  return openStore({...backends[1].options(database)!, ...(table ? {table} : {})})
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run the built CLI (bin/run.js) on the Node running the tests, as a user would. */
export function runCli(args: string[], options: {env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: {...process.env, NO_COLOR: '1', ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stderr, stdout})
    })
    child.stdin.end(options.input ?? '')
  })
}

/**
 * Open a store with a fresh database and its schema on a back end. A missing back
 * end skips the suite, except under CI=true, where it fails.
 */
export async function storeOrSkip(context: Mocha.Context, backend: BackendCase, database?: string): Promise<Store> {
  const store = await openTestStore(backend, database)
  if (!store) {
    if (process.env.CI === 'true') throw new Error(`${backend.name} back end is not available under CI=true`)
    context.skip()
  }

  await store!.ensureSchema()
  return store!
}

/** Assert that fn throws a usage error (exit 2) whose message matches pattern. */
export function expectUsageError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn()
  } catch (error) {
    expect((error as {kind?: string}).kind, (error as Error).message).to.equal('usage')
    expect((error as Error).message).to.match(pattern)
    return
  }

  expect.fail('should have thrown a usage error')
}

/**
 * The URL of the suite's ClickHouse server. Without one the test is skipped,
 * except under CI=true, where a missing server fails it.
 */
export function requireServerUrl(context: Mocha.Context): string {
  const url = serverUrl()
  if (!url) {
    if (process.env.CI === 'true') throw new Error('CI=true but no ClickHouse server is available: the server tests are mandatory in CI')
    context.skip()
  }

  return url!
}

/** A promise with its resolve at hand (a gate a test opens when it has seen what it waits for). */
export function deferred<T = void>(): {promise: Promise<T>; resolve: (value: T) => void; settled: () => boolean} {
  let resolve!: (value: T) => void
  let done = false
  const promise = new Promise<T>((r) => {
    resolve = (value) => {
      done = true
      r(value)
    }
  })
  return {promise, resolve, settled: () => done}
}

/**
 * Resolve once `condition()` holds, checking every 20 ms: an observation, not a timing. The
 * deadline only turns a condition that never comes into a failure naming it.
 */
export async function waitUntil(condition: () => boolean, what = 'the condition', timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} was not seen within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
