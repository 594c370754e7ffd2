/**
 * cleanup on a terminal asks before deleting. The CLI runs under script(1),
 * which gives it a pseudo-terminal; the answer is typed once the question shows.
 */
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'

import type {Store} from '../../src/lib/store/index.js'

import {backends, binPath, openTestStore, requireServerUrl, serverUrl} from '../helpers.js'
import {insertRows, makeDataset} from '../lib/analyze/data.js'

const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0
const shellQuote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`

function onTerminal(args: string[], answer: string): Promise<{code: number | null; output: string}> {
  const command = [process.execPath, binPath, ...args].map((arg) => shellQuote(arg)).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {env: {...process.env, NO_COLOR: '1'}, stdio: ['pipe', 'pipe', 'pipe']})
    let output = ''
    let answered = false
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk
      if (!answered && output.includes('Go ahead? [y/N]')) {
        answered = true
        child.stdin.write(answer)
      }
    }

    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, output})
    })
  })
}

describe('logbench cleanup on a terminal', function () {
  let store: Store
  let args: string[]

  const runCounts = async () =>
    Object.fromEntries(
      (await store.query<{run_id: string; n: number}>(`SELECT run_id, count() AS n FROM ${store.tableRef} GROUP BY run_id`)).map((row) => [row.run_id, row.n]),
    )

  before(async function () {
    if (!hasScript) {
      if (process.env.CI === 'true') throw new Error('script(1) is missing under CI=true (.ci/run installs bsdutils)')
      this.skip()
    }

    requireServerUrl(this)
    store = (await openTestStore(backends.find((backend) => backend.name === 'server')!))!
    await store.ensureSchema()
    await insertRows(store, makeDataset({perRun: [500, 300, 200]}))
    args = ['--clickhouse-url', serverUrl()!, '--database', store.info.database]
  })

  after(async () => {
    if (store) await store.command(`DROP DATABASE IF EXISTS \`${store.info.database}\``)
    await store?.close()
  })

  it('asks, and deletes nothing when the answer is not yes', async () => {
    const result = await onTerminal(['cleanup', '--run-id', 'run-beta', ...args], 'n\r')
    expect(result.output).to.match(/delete 300 rows of 1,000 from \S+\.logs \([^)]+\) where run id ∈ \{run-beta\}\. Go ahead\? \[y\/N\]/)
    expect(result.output).to.include('cancelled: nothing changed')
    expect(result.code).to.equal(0)
    expect(await runCounts()).to.deep.equal({'run-alpha': 500, 'run-beta': 300, 'run-gamma': 200})
  })

  it('deletes once the answer is yes', async () => {
    const result = await onTerminal(['cleanup', '--run-id', 'run-beta', ...args], 'yes\r')
    expect(result.code, result.output).to.equal(0)
    expect(result.output).to.match(/300 rows removed/)
    expect(await runCounts()).to.deep.equal({'run-alpha': 500, 'run-gamma': 200})
  })
})
