import {expect} from 'chai'
import {rmSync} from 'node:fs'

import {openStore, type Store} from '../../src/lib/store/index.js'

import {backends, openTestStore, requireServerUrl, runCli, serverUrl, tempDir, uniqueDatabase} from '../helpers.js'
import {insertRows, makeDataset} from '../lib/analyze/data.js'
import {inEmbeddedChild} from '../lib/analyze/embedded-child-client.js'

const PER_RUN = [1200, 700, 400]
const TOTAL = PER_RUN.reduce((sum, n) => sum + n, 0)

/**
 * The CLI against each back end. The server is seeded and checked from this
 * process; the embedded directory from a child process, because the CLI under
 * test must be able to open it (one process per data directory).
 */
interface Target {
  args: string[]
  seed(): Promise<void>
  runCounts(): Promise<Record<string, number>>
  close(): Promise<void>
}

async function serverTarget(): Promise<Target | undefined> {
  const server = backends.find((backend) => backend.name === 'server')!
  const store: Store | undefined = await openTestStore(server)
  if (!store) return undefined
  return {
    args: ['--clickhouse-url', serverUrl()!, '--database', store.info.database],
    async close() {
      await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
      await store.close()
    },
    async runCounts() {
      if (!(await store.schemaExists())) return {}
      const rows = await store.query<{run_id: string; n: number}>(`SELECT run_id, count() AS n FROM ${store.tableRef} GROUP BY run_id`)
      return Object.fromEntries(rows.map((row) => [row.run_id, row.n]))
    },
    async seed() {
      await store.ensureSchema()
      await store.command(`TRUNCATE TABLE ${store.tableRef}`)
      await insertRows(store, makeDataset({perRun: PER_RUN}))
    },
  }
}

function embeddedTarget(): Target {
  const dataDir = tempDir('logbench-cleanup-cli-')
  const database = uniqueDatabase('lbcleanup')
  return {
    args: ['--data-dir', dataDir, '--database', database],
    async close() {
      rmSync(dataDir, {force: true, recursive: true})
    },
    async runCounts() {
      const [rows] = await inEmbeddedChild({dataDir, database, ifTableExists: true, queries: ['SELECT run_id, count() AS n FROM {table} GROUP BY run_id']})
      return Object.fromEntries(rows.map((row) => [row.run_id as string, row.n as number]))
    },
    async seed() {
      await inEmbeddedChild({dataDir, database, seed: {perRun: PER_RUN}})
    },
  }
}

const FULL = {'run-alpha': PER_RUN[0], 'run-beta': PER_RUN[1], 'run-gamma': PER_RUN[2]}

for (const [title, make] of [
  ['ClickHouse 18.16', serverTarget],
  ['the embedded engine', async () => embeddedTarget()],
] as const) {
  describe(`logbench cleanup (CLI) on ${title}`, function () {
    let target: Target

    before(async function () {
      const made = await make()
      if (!made) {
        if (process.env.CI === 'true') throw new Error('the server back end is not available under CI=true')
        this.skip()
      }

      target = made!
      await target.seed()
    })

    after(async () => target?.close())

    it('--truncate without a terminal and without --yes: exits 2 and deletes nothing', async () => {
      expect(await target.runCounts()).to.deep.equal(FULL)
      const result = await runCli(['cleanup', '--truncate', ...target.args])
      expect(result.code).to.equal(2)
      expect(result.stderr).to.match(/needs confirmation/).and.match(/--yes/)
      expect(result.stdout).to.equal('')
      const json = await runCli(['cleanup', '--run-id', 'run-alpha', '--json', ...target.args])
      expect(json.code).to.equal(2)
      expect(JSON.parse(json.stdout).error).to.include({exitCode: 2, kind: 'usage'})
      expect(await target.runCounts()).to.deep.equal(FULL)
    })

    it('--dry-run shows what would go without --yes, and changes nothing', async () => {
      const result = await runCli(['cleanup', '--run-id', 'run-beta', '--dry-run', ...target.args])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/dry run, nothing changed: would delete 700 rows of 2,300 from \S+\.logs \([^)]+\) where run id ∈ \{run-beta\}/)
      expect(await target.runCounts()).to.deep.equal(FULL)
    })

    it('--run-id R --yes removes exactly that run\'s rows; the other runs stay', async () => {
      const result = await runCli(['cleanup', '--run-id', 'run-beta', '--yes', '--json', ...target.args])
      expect(result.code, result.stderr).to.equal(0)
      const json = JSON.parse(result.stdout)
      expect(json).to.include({affectedRows: 700, dryRun: false, executed: true, remainingMatching: 0, removedRows: 700, rowsAfter: TOTAL - 700, rowsBefore: TOTAL})
      expect(json.actions).to.deep.equal(['delete'])
      expect(json.filters).to.deep.equal({apps: [], before: null, levels: [], runIds: ['run-beta'], since: null})
      expect(json.deleteMethod).to.be.oneOf(['lightweight-delete', 'mutation-sync', 'mutation-poll'])
      expect(json.statements[0].params).to.deep.equal({d_run0: 'run-beta'})
      expect(await target.runCounts()).to.deep.equal({'run-alpha': PER_RUN[0], 'run-gamma': PER_RUN[2]})
    })

    it('prints row counts before and after for people', async () => {
      const result = await runCli(['cleanup', '--apps', "x' OR 1=1 --,nobody", '--yes', ...target.args])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/before\s+│\s+1,600/)
      expect(result.stdout).to.match(/after\s+│\s+1,600/)
      expect(result.stdout).to.match(/0 rows removed/)
      expect(result.stderr).to.include('no row matches: nothing to delete')
      expect(await target.runCounts()).to.deep.equal({'run-alpha': PER_RUN[0], 'run-gamma': PER_RUN[2]})
    })

    it('--truncate --yes empties the table; a second run finds nothing to remove', async () => {
      const result = await runCli(['cleanup', '--truncate', '--yes', ...target.args])
      expect(result.code, result.stderr).to.equal(0)
      expect(result.stdout).to.match(/1,600 rows removed/)
      expect(await target.runCounts()).to.deep.equal({})
      const again = await runCli(['cleanup', '--truncate', '--optimize', '--yes', '--json', ...target.args])
      expect(again.code, again.stderr).to.equal(0)
      expect(JSON.parse(again.stdout)).to.include({removedRows: 0, rowsAfter: 0, rowsBefore: 0})
    })

    it('exits 2 for a request that makes no sense', async () => {
      for (const args of [[], ['--drop', '--truncate'], ['--truncate', '--run-id', 'x'], ['--before', 'someday', '--yes']]) {
        const result = await runCli(['cleanup', ...args, ...target.args])
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2)
      }
    })
  })
}

describe('logbench cleanup --help', () => {
  it('has a summary, examples and described flags', async () => {
    const result = await runCli(['cleanup', '--help'])
    expect(result.code).to.equal(0)
    expect(result.stdout).to.include('Delete test data safely')
    expect(result.stdout).to.include('logbench cleanup --truncate --yes')
    for (const flag of ['--truncate', '--optimize', '--apps', '--run-id', '--before', '--drop', '--yes', '--dry-run', '--json']) {
      expect(result.stdout).to.match(new RegExp(`${flag}[^\\n]*\\s{2,}\\S`), flag)
    }
  })
})

describe('logbench cleanup refuses what it must not touch', () => {
  const GUIDE_TABLE = (table: string) =>
    `CREATE TABLE {db}.${table} (app_id String, level String, message String, source String, metadata String, created_at DateTime) ENGINE = MergeTree ORDER BY created_at`
  const guideRows = (table: string, n: number) =>
    `INSERT INTO {db}.${table} SELECT 'app', 'info', concat('m', toString(number)), '', '{}', toDateTime('2024-05-01 00:00:00') + number FROM system.numbers LIMIT ${n}`

  it('never the system databases: system on the server, information_schema on the engines that have it', async function () {
    const url = requireServerUrl(this)
    const system = await runCli(['cleanup', '--truncate', '--yes', '--clickhouse-url', url, '--database', 'system', '--table', 'parts'])
    expect(system.code, system.stderr).to.equal(2)
    expect(system.stderr).to.include('cleanup does not touch the system database')

    const dir = tempDir('logbench-cleanup-system-')
    try {
      for (const database of ['information_schema', 'INFORMATION_SCHEMA', 'system']) {
        const table = database === 'system' ? 'one' : 'tables'
        const result = await runCli(['cleanup', '--drop', '--yes', '--data-dir', dir, '--database', database, '--table', table])
        expect(result.code, `${database}: ${result.stderr}`).to.equal(2)
        expect(result.stderr).to.include(`cleanup does not touch the ${database} database`)
      }
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  it('never a table of another engine than MergeTree, even one that holds logs (server and embedded engine)', async function () {
    const url = requireServerUrl(this)
    const database = uniqueDatabase('lbengine')
    const store = await openStore({clickhouseUrl: url, database})
    const dir = tempDir('logbench-cleanup-engine-')
    try {
      const commands = [`CREATE DATABASE {db}`, GUIDE_TABLE('merged'), GUIDE_TABLE('memlogs').replace('ENGINE = MergeTree ORDER BY created_at', 'ENGINE = TinyLog'), guideRows('memlogs', 50)]
      for (const sql of commands) await store.command(sql.replaceAll('{db}', database))
      await inEmbeddedChild({commands, dataDir: dir, database})
      for (const where of [['--clickhouse-url', url], ['--data-dir', dir]]) {
        const result = await runCli(['cleanup', '--truncate', '--yes', ...where, '--database', database, '--table', 'memlogs'])
        expect(result.code, result.stderr).to.equal(2)
        expect(result.stderr).to.include(`${database}.memlogs is a TinyLog, not a MergeTree table: cleanup refuses to change it`)
      }

      const [{n}] = await store.query<{n: number}>(`SELECT count() AS n FROM ${database}.memlogs`)
      expect(n).to.equal(50)
      const [[kept]] = await inEmbeddedChild({dataDir: dir, database, queries: [`SELECT count() AS n FROM ${database}.memlogs`]})
      expect(kept.n).to.equal(50)
    } finally {
      await store.command(`DROP DATABASE IF EXISTS ${database}`)
      await store.close()
      rmSync(dir, {force: true, recursive: true})
    }
  })

  it('another logs table only when the user named it: --database, --table or CLICKHOUSE_DATABASE', async () => {
    // logs_db.logs of a fresh data directory, in the guide's shape rather than logbench's.
    const dir = tempDir('logbench-cleanup-named-')
    const seed = () => inEmbeddedChild({commands: ['CREATE DATABASE IF NOT EXISTS {db}', 'DROP TABLE IF EXISTS {db}.logs', GUIDE_TABLE('logs'), guideRows('logs', 120)], dataDir: dir, database: 'logs_db'})
    const rowsLeft = async () => (await inEmbeddedChild({dataDir: dir, database: 'logs_db', queries: ['SELECT count() AS n FROM logs_db.logs']}))[0][0].n
    const env = {CLICKHOUSE_DATABASE: undefined, CLICKHOUSE_URL: undefined}
    try {
      await seed()
      const unnamed = await runCli(['cleanup', '--truncate', '--yes', '--data-dir', dir], {env})
      expect(unnamed.code, unnamed.stderr).to.equal(2)
      expect(unnamed.stderr).to.include('logs_db.logs is not a logbench logs table: cleanup changes another table only when you name it')
      expect(unnamed.stderr).to.include('pass --database logs_db --table logs')
      expect(await rowsLeft()).to.equal(120)
      for (const [named, extraEnv] of [
        [['--database', 'logs_db'], {}],
        [['--table', 'logs'], {}],
        [[], {CLICKHOUSE_DATABASE: 'logs_db'}],
      ] as const) {
        await seed()
        const result = await runCli(['cleanup', '--truncate', '--yes', '--json', '--data-dir', dir, ...named], {env: {...env, ...extraEnv}})
        expect(result.code, `${JSON.stringify(named)} ${JSON.stringify(extraEnv)}: ${result.stderr}`).to.equal(0)
        expect(JSON.parse(result.stdout)).to.include({removedRows: 120, rowsAfter: 0})
        expect(await rowsLeft()).to.equal(0)
      }
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })
})
