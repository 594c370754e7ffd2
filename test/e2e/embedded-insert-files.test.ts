/**
 * The embedded engine's insert files across serve processes: a serve stopped normally
 * leaves none; what a serve killed with SIGKILL left is removed when a serve starts
 * again on its data directory; a serve on another data directory keeps its own.
 */
import {expect} from 'chai'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {defaultInsertFileBase, insertFileScope} from '../../src/lib/store/insert-files.js'
import {binPath, repoRoot, tempDir} from '../helpers.js'

interface ServeProcess {
  child: ChildProcess
  url: string
  exited: Promise<number | null>
  stderr: () => string
}

async function startServe(dataDir: string): Promise<ServeProcess> {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  delete env.CLICKHOUSE_URL
  const child = spawn(process.execPath, [binPath, 'serve', '--port', '0', '--data-dir', dataDir], {cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk
      const match = /listening on (http:\/\/\S+)/.exec(stdout)
      if (match) resolve(match[1])
    })
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)))
  })
  return {child, exited, stderr: () => stderr, url}
}

async function post(url: string, run: string, from: number): Promise<number> {
  const logs = Array.from({length: 2000}, (_, i) => ({app_id: 'svc', message: `message ${from + i} ${'x'.repeat(200)}`, metadata: {run_id: run, seq: from + i}}))
  const response = await fetch(`${url}/api/logs/batch`, {body: JSON.stringify(logs), headers: {'content-type': 'application/json'}, method: 'POST'})
  await response.arrayBuffer()
  return response.status
}

describe('embedded insert files across serve processes', function () {
  const base = defaultInsertFileBase()
  let root: string
  const started: ServeProcess[] = []
  const dirsOf = (dataDir: string) =>
    readdirSync(base)
      .filter((name) => name.startsWith(insertFileScope(dataDir)))
      .map((name) => path.join(base, name))

  beforeEach(() => {
    root = tempDir('logbench-insert-files-e2e-')
  })

  afterEach(async () => {
    for (const serve of started.splice(0)) {
      if (serve.child.exitCode === null && serve.child.signalCode === null) {
        serve.child.kill('SIGKILL')
        await serve.exited
      }
    }

    rmSync(root, {force: true, recursive: true})
  })

  it('a normal stop leaves no insert file or directory', async () => {
    const dataDir = path.join(root, 'data')
    mkdirSync(dataDir)
    const serve = await startServe(dataDir)
    started.push(serve)
    expect(await Promise.all([0, 1, 2, 3].map((i) => post(serve.url, 'run-stop', i * 2000)))).to.deep.equal([202, 202, 202, 202])
    expect(dirsOf(dataDir)).to.have.length(1)
    serve.child.kill('SIGTERM')
    expect(await serve.exited).to.equal(0)
    expect(dirsOf(dataDir)).to.deep.equal([])
    expect(serve.stderr()).to.not.match(/Warning/)
  })

  it('what a serve killed with SIGKILL left is removed at the next start on its data directory; another serve keeps its own', async () => {
    const dataDir = path.join(root, 'data')
    const otherData = path.join(root, 'other-data')
    mkdirSync(dataDir)
    mkdirSync(otherData)
    const killed = await startServe(dataDir)
    started.push(killed)
    const other = await startServe(otherData)
    started.push(other)
    expect(await post(other.url, 'run-other', 0)).to.equal(202)
    const [otherDir] = dirsOf(otherData)
    expect(otherDir).to.be.a('string')

    // Killed while requests are in flight.
    expect(await post(killed.url, 'run-killed', 0)).to.equal(202)
    const inFlight = [1, 2, 3, 4].map((i) => post(killed.url, 'run-killed', i * 2000).catch(() => 0))
    killed.child.kill('SIGKILL')
    await killed.exited
    await Promise.all(inFlight)
    const left = dirsOf(dataDir)
    expect(left, 'the killed serve could not clean up').to.have.length(1)
    expect(path.basename(left[0])).to.include(`-${killed.child.pid}-`)
    // Whatever file it was inserting when killed (the kill may land between two): one more, to be sure.
    writeFileSync(path.join(left[0], '41.rowbinary'), 'rows of an INSERT cut off by the kill')

    const again = await startServe(dataDir)
    started.push(again)
    expect(existsSync(left[0]), 'the dead serve\'s directory').to.equal(false)
    const now = dirsOf(dataDir)
    expect(now).to.have.length(1)
    expect(path.basename(now[0])).to.include(`-${again.child.pid}-`)
    expect(await post(again.url, 'run-again', 0)).to.equal(202)
    // The serve on the other data directory lost nothing and still stores.
    expect(existsSync(otherDir)).to.equal(true)
    expect(await post(other.url, 'run-other', 2000)).to.equal(202)

    for (const serve of [again, other]) {
      serve.child.kill('SIGTERM')
      expect(await serve.exited).to.equal(0)
    }

    expect([...dirsOf(dataDir), ...dirsOf(otherData)]).to.deep.equal([])
  })
})
