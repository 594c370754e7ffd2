import {Flags} from '@oclif/core'
import {once} from 'node:events'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'

import {BaseCommand} from '../base-command.js'
import {storeFlags} from '../flags.js'
import {exitCodesHelp, usageError} from '../lib/errors.js'
import {checkAccess, DEFAULT_BATCHER_OPTIONS, DEFAULT_LIMITS, type IngestStats, startIngestServer} from '../lib/ingest/index.js'
import {verifyOverHttp} from '../lib/verify/route.js'
import {openStoreCounter, type RunCounter} from '../lib/verify/verify.js'
import {describeStore, openStore, type StoreInfo} from '../lib/store/index.js'
import {parseBytes, parseDuration} from '../lib/parse.js'

export interface ServeResult {
  url: string
  store: Pick<StoreInfo, 'kind' | 'location' | 'database' | 'table'> & {version: string}
  stats: IngestStats
}

const size = (name: string, text: string) => parseBytes(text, `--${name}`)

export default class Serve extends BaseCommand {
  static summary = 'Run a fast, loss-free HTTP ingest endpoint that writes logs to ClickHouse.'
  static description = `POST /api/logs and /api/logs/batch take one log object, a JSON array, {"logs": [...]} or NDJSON (application/x-ndjson). Concurrent requests are merged into one INSERT (group commit); a request is answered 202 {"accepted": n} only once its rows are committed. A full buffer or an unreachable ClickHouse gets 503 with Retry-After, bad entries 400 naming the entry and field, a body over --max-body 413, another content type 415, a missing or wrong token 401. An answer sent before the body was read closes the connection once the rest of the body has been read and discarded (at most 64 MiB or 30 s), so every client reads it.

With a token (--token or LOGBENCH_TOKEN), every route but GET /health needs "Authorization: Bearer TOKEN", and /health gives its details only with it. On an address other than loopback, serve refuses to start without a token unless --no-auth says it is meant.

GET /health (200, or 503 when storage is unreachable), GET /metrics (Prometheus text), the read-only reports of "logbench analyze" at GET /api/reports/<name> (what "analyze --target" reads when serve holds the embedded data directory), and POST /api/verify, which counts the stored rows of a run (what run, parallel and merge verify through when their target is this serve and no store is named). An Idempotency-Key header makes a retried request count once (see the README). SIGINT/SIGTERM stop accepting, flush, answer every request in flight and exit 0.

Storage is the embedded engine in --data-dir unless --clickhouse-url (or CLICKHOUSE_URL) names a server.

${exitCodesHelp([0, 1, 2, 3])}`

  static examples = [
    {command: '<%= config.bin %> serve', description: 'Serve on 127.0.0.1:3000, storing into the embedded engine in ./.logbench/data'},
    {command: '<%= config.bin %> serve --clickhouse-url http://127.0.0.1:8123 --port 3000', description: 'Store into a ClickHouse server'},
    {command: 'LOGBENCH_TOKEN=secret <%= config.bin %> serve --host 0.0.0.0', description: 'Listen on every interface, with a bearer token'},
    {command: '<%= config.bin %> serve --host 0.0.0.0 --no-auth', description: 'Listen on every interface without a token, on purpose (on a private network)'},
  ]

  static flags = {
    ...storeFlags,
    host: Flags.string({default: '127.0.0.1', description: 'address to listen on (0.0.0.0 for every interface; other than loopback, it needs a token or --no-auth)'}),
    port: Flags.integer({default: 3000, description: 'port to listen on (0 picks a free one)', max: 65_535, min: 0}),
    token: Flags.string({description: 'require "Authorization: Bearer TOKEN" on every route but /health (env LOGBENCH_TOKEN)'}),
    'no-auth': Flags.boolean({
      description: 'serve on an address other than loopback without a token, on purpose (refused otherwise): anyone who can reach it can write logs and read reports',
      exclusive: ['token'],
    }),
    'pid-file': Flags.string({description: "write serve's own process id to this file once listening (removed on exit), for `kill $(cat FILE)`"}),
    'max-body': Flags.string({default: '10MB', description: 'largest request body'}),
    'max-message': Flags.string({default: String(DEFAULT_LIMITS.maxMessageBytes), description: 'longest message, in bytes'}),
    'batch-rows': Flags.integer({default: DEFAULT_BATCHER_OPTIONS.maxBatchRows, description: 'rows per INSERT at most', helpGroup: 'BATCHING', min: 1}),
    'batch-bytes': Flags.string({default: '16MiB', description: 'bytes per INSERT at most', helpGroup: 'BATCHING'}),
    'batch-wait': Flags.string({default: `${DEFAULT_BATCHER_OPTIONS.maxWaitMs}ms`, description: 'longest rows wait before a further concurrent INSERT takes them', helpGroup: 'BATCHING'}),
    'batch-linger': Flags.string({
      default: `${DEFAULT_BATCHER_OPTIONS.lingerMs}ms`,
      description: 'under load, how long a free INSERT slot waits for the rows still in flight (0 sends at once); a request arriving alone never waits',
      helpGroup: 'BATCHING',
    }),
    'insert-concurrency': Flags.integer({default: DEFAULT_BATCHER_OPTIONS.insertConcurrency, description: 'INSERTs running at once', helpGroup: 'BATCHING', min: 1}),
    'buffer-rows': Flags.integer({default: DEFAULT_BATCHER_OPTIONS.maxBufferRows, description: 'rows held in memory at most (then 503)', helpGroup: 'BATCHING', min: 1}),
    'buffer-bytes': Flags.string({default: '64MiB', description: 'bytes held in memory at most (then 503)', helpGroup: 'BATCHING'}),
  }

  async run(): Promise<ServeResult> {
    const {flags} = await this.parse(Serve)
    const batchWait = parseDuration(flags['batch-wait'], '--batch-wait', {allowZero: true, bareUnit: 'ms'})
    const batchLinger = parseDuration(flags['batch-linger'], '--batch-linger', {allowZero: true, bareUnit: 'ms'})
    const token = flags.token ?? this.env.token
    if (flags['no-auth'] && token !== undefined) throw usageError('--no-auth contradicts the token in LOGBENCH_TOKEN', 'unset LOGBENCH_TOKEN, or leave out --no-auth to require that token')
    // Before anything is opened: an open door on another machine's reach is refused at once.
    const {exposed} = await checkAccess({host: flags.host, open: flags['no-auth'], token})

    // Inserts get 30 s: a hung server is noticed by the watchdog, and a request is not held longer.
    const store = await openStore({...this.storeOptions(flags), requestTimeoutMs: 30_000})
    try {
      await store.ensureSchema()
      let runCounter: Promise<RunCounter> | undefined
      const counter = () => (runCounter ??= openStoreCounter(store))
      const {reportOverHttp} = await import('../lib/analyze/http.js')
      const server = await startIngestServer({
        batch: {
          insertConcurrency: flags['insert-concurrency'],
          lingerMs: batchLinger,
          maxBatchBytes: size('batch-bytes', flags['batch-bytes']),
          maxBatchRows: flags['batch-rows'],
          maxBufferBytes: size('buffer-bytes', flags['buffer-bytes']),
          maxBufferRows: flags['buffer-rows'],
          maxWaitMs: batchWait,
        },
        host: flags.host,
        limits: {maxMessageBytes: size('max-message', flags['max-message'])},
        log: (line) => process.stderr.write(`serve: ${line}\n`),
        maxBodyBytes: size('max-body', flags['max-body']),
        port: flags.port,
        reports: (name, params) => reportOverHttp(store, name, params, this.abortController.signal),
        verify: (req) => verifyOverHttp(counter, req, this.abortController.signal),
        openAccess: flags['no-auth'],
        store,
        token,
      })
      const {info} = store
      const line = `logbench serve listening on ${server.url} → ${describeStore({...info, version: info.version.text})}`
      if (this.jsonEnabled()) process.stderr.write(line + '\n')
      else this.log(line)
      if (exposed) process.stderr.write(`serve: warning: ${server.url} takes requests without a token (--no-auth): anyone who can reach it can write logs and read the reports\n`)
      const pidFile = flags['pid-file']
      if (pidFile) writeFileSync(pidFile, `${process.pid}\n`)

      // Started through a launcher (npx, npm exec: a shell under npm), serve is a grandchild of the
      // shell's `$!`, and a signal to that launcher never reaches it. When the process that started
      // serve goes away, serve stops as if signalled, rather than hold the port as an orphan.
      const parent = process.ppid
      const watch = setInterval(() => {
        if (process.ppid === parent || this.abortController.signal.aborted) return
        process.stderr.write(`serve: the process that started serve (pid ${parent}) has gone\n`)
        this.abortController.abort()
      }, 250)
      watch.unref()

      if (!this.interrupted) await once(this.abortController.signal, 'abort')
      clearInterval(watch)
      process.stderr.write('serve: stopping: no new requests, flushing and answering those in flight\n')
      await server.stop()
      const stats = server.stats()
      process.stderr.write(`serve: stopped after ${stats.accepted} accepted logs in ${stats.inserts} inserts\n`)
      return {
        stats,
        store: {database: info.database, kind: info.kind, location: info.location, table: info.table, version: info.version.text},
        url: server.url,
      }
    } finally {
      const pidFile = flags['pid-file']
      if (pidFile) {
        try {
          if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile)
        } catch {}
      }

      await store.close()
    }
  }
}
