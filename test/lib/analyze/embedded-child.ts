/**
 * A child process that opens an embedded data directory the test process must
 * not open itself (chDB allows one data directory per process, and the CLI
 * under test opens this one): it seeds it with the test dataset and/or runs
 * queries, and prints {rows: [...]} per query as one JSON line.
 *
 *   node --import tsx embedded-child.ts '{"dataDir": "...", "database": "...", "commands": ["CREATE ..."], "seed": {"now": 1714564800000}, "queries": ["SELECT ..."]}'
 */
import {openStore} from '../../../src/lib/store/index.js'
import {type DatasetOptions, insertRows, makeDataset} from './data.js'

interface Job {
  dataDir: string
  database: string
  seed?: DatasetOptions
  queries?: string[]
  /** Statements run first (DDL, INSERT), `{db}` standing for the database. */
  commands?: string[]
  /** Statements run after the seed (OPTIMIZE), `{table}` standing for the logs table. */
  afterSeed?: string[]
  /** Answer [] for every query when the logs table does not exist. */
  ifTableExists?: boolean
}

const job = JSON.parse(process.argv[2]) as Job
const store = await openStore({dataDir: job.dataDir, database: job.database})
try {
  for (const sql of job.commands ?? []) await store.command(sql.replaceAll('{db}', job.database))
  if (job.seed) {
    await store.ensureSchema()
    await insertRows(store, makeDataset(job.seed))
  }

  for (const sql of job.afterSeed ?? []) await store.command(sql.replaceAll('{table}', store.tableRef))

  const results = []
  const skip = job.ifTableExists && !(await store.schemaExists())
  for (const sql of job.queries ?? []) results.push(skip ? [] : await store.query(sql.replaceAll('{table}', store.tableRef)))
  process.stdout.write(JSON.stringify(results) + '\n')
} finally {
  await store.close()
}
