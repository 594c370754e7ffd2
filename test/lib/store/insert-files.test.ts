/**
 * The embedded engine's insert files on a real file system: where they go, that each
 * store's directory is its own, what a new store sweeps away, and what an unwritable
 * or vanished directory does (one warning, no file, a retry later).
 */
import {expect} from 'chai'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {defaultInsertFileBase, InsertFiles, insertFileScope} from '../../../src/lib/store/insert-files.js'
import {tempDir} from '../../helpers.js'

describe('embedded insert files', () => {
  let root: string
  let base: string
  let dataA: string
  let dataB: string
  let warnings: string[]
  const warn = (message: string) => warnings.push(message)

  beforeEach(() => {
    root = tempDir('logbench-insert-files-')
    base = path.join(root, 'tmp')
    dataA = path.join(root, 'data-a')
    dataB = path.join(root, 'data-b')
    mkdirSync(base)
    mkdirSync(dataA)
    mkdirSync(dataB)
    warnings = []
  })

  afterEach(() => rmSync(root, {force: true, recursive: true}))

  it('uses /dev/shm where it is a directory, the OS temp directory elsewhere', () => {
    const shm = existsSync('/dev/shm') ? '/dev/shm' : undefined
    expect(defaultInsertFileBase()).to.be.oneOf(shm ? [shm, os.tmpdir()] : [os.tmpdir()])
  })

  it('names each data directory apart, by its real path', () => {
    expect(insertFileScope(dataA)).to.match(/^logbench-insert-[0-9a-f]{16}-$/)
    expect(insertFileScope(dataA)).to.not.equal(insertFileScope(dataB))
    expect(insertFileScope(path.join(dataA, '..', 'data-a'))).to.equal(insertFileScope(dataA))
  })

  it('writes each batch to a file of its own in a 0700 directory, removes it, and removes the directory on close', () => {
    const files = new InsertFiles({base, dataDir: dataA, warn})
    expect(files.usable()).to.equal(true)
    const first = files.write(Buffer.from('one'))!
    const second = files.write(Buffer.from('two'))!
    expect(first).to.not.equal(second)
    expect(path.dirname(first)).to.equal(files.directory)
    expect(path.basename(files.directory!)).to.match(new RegExp(`^${insertFileScope(dataA)}${process.pid}-`))
    expect(readFileSync(first, 'utf8')).to.equal('one')
    expect(statSync(files.directory!).mode & 0o777).to.equal(0o700)
    expect(statSync(first).mode & 0o777).to.equal(0o600)
    files.remove(first)
    files.remove(first)
    expect(readdirSync(files.directory!)).to.deep.equal([path.basename(second)])
    files.close()
    expect(readdirSync(base)).to.deep.equal([])
    expect(warnings).to.deep.equal([])
  })

  it('sweeps what a dead process left for its data directory, and nothing else', () => {
    const scopeA = insertFileScope(dataA)
    // Left by a process killed mid-INSERT, with the file it was writing.
    const dead = path.join(base, `${scopeA}999999-abcdef`)
    mkdirSync(dead)
    writeFileSync(path.join(dead, '7.rowbinary'), 'rows')
    // Another data directory's live files, and something that is not ours at all.
    const other = new InsertFiles({base, dataDir: dataB, warn})
    const otherFile = other.write(Buffer.from('live'))!
    writeFileSync(path.join(base, 'unrelated'), 'x')
    // A live store of this process on the same data directory (the test suite opens several).
    const sibling = new InsertFiles({base, dataDir: dataA, warn})
    const siblingFile = sibling.write(Buffer.from('live too'))!

    const files = new InsertFiles({base, dataDir: dataA, warn})
    expect(files.sweep()).to.deep.equal([dead])
    expect(existsSync(dead)).to.equal(false)
    expect(readFileSync(otherFile, 'utf8')).to.equal('live')
    expect(readFileSync(siblingFile, 'utf8')).to.equal('live too')
    expect(existsSync(path.join(base, 'unrelated'))).to.equal(true)
    // Once a store is closed, a later sweep may take nothing of it: its directory is gone already.
    sibling.close()
    expect(files.sweep()).to.deep.equal([])
    other.close()
  })

  it('an unwritable place gives no file and one warning naming it, then a retry after 30 s', () => {
    let now = 1_000_000
    // A path under a regular file cannot be a directory, whoever runs the test (root included).
    const blocked = path.join(root, 'a-file')
    writeFileSync(blocked, '')
    const files = new InsertFiles({base: path.join(blocked, 'tmp'), dataDir: dataA, now: () => now, warn})
    expect(files.usable()).to.equal(false)
    expect(files.write(Buffer.from('x'))).to.equal(undefined)
    expect(files.usable()).to.equal(false)
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.include(path.join(blocked, 'tmp')).and.include('ENOTDIR').and.include('JSONEachRow')

    // Still unwritable after the delay: tried again, no second warning.
    now += 30_000
    expect(files.usable()).to.equal(false)
    expect(warnings).to.have.length(1)
    // Writable again: back to files.
    rmSync(blocked)
    mkdirSync(blocked)
    now += 30_000
    expect(files.usable()).to.equal(true)
    expect(files.write(Buffer.from('x'))).to.be.a('string')
    files.close()
  })

  it('makes its directory again when a temp cleaner removed it', () => {
    const files = new InsertFiles({base, dataDir: dataA, warn})
    const first = files.write(Buffer.from('a'))!
    rmSync(path.dirname(first), {force: true, recursive: true})
    const second = files.write(Buffer.from('b'))!
    expect(readFileSync(second, 'utf8')).to.equal('b')
    expect(warnings).to.deep.equal([])
    files.close()
    expect(readdirSync(base)).to.deep.equal([])
  })

  it('a write that fails leaves no file and warns once', () => {
    const files = new InsertFiles({base, dataDir: dataA, warn})
    expect(files.usable()).to.equal(true)
    // The store's directory replaced by a file: every write into it fails.
    const dir = files.directory!
    rmSync(dir, {recursive: true})
    writeFileSync(dir, '')
    expect(files.write(Buffer.from('x'))).to.equal(undefined)
    expect(files.write(Buffer.from('y'))).to.equal(undefined)
    expect(warnings).to.have.length(1)
    rmSync(dir)
  })
})
