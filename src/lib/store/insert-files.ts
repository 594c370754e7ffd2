/**
 * The files through which RowBinary batches reach the embedded engine. The engine's
 * insert call takes text formats only, but its file() table function reads RowBinary,
 * which costs the engine much less than parsing JSON: so each batch is written to a
 * file on a memory-backed file system, read by `INSERT ... SELECT * FROM file(...)`,
 * and removed once the INSERT has settled.
 *
 * Where: /dev/shm when it is a directory with room (Linux), else the OS temp directory
 * (macOS has no /dev/shm). Each store gets a directory of its own, created with a
 * random suffix and mode 0700, named after its data directory:
 * `logbench-insert-<data directory hash>-<pid>-<random>`. A data directory is held by
 * one process at a time (the engine locks it), so when a store opens, any directory of
 * its data directory's name not made by this process is left over from a process that
 * is gone (killed with SIGKILL, say) and is removed. Serves on other data directories
 * have other names and are never touched.
 *
 * A directory that cannot be created or written, or a write that fails (a full file
 * system), is reported once through `warn`; the store then inserts as JSONEachRow and
 * tries files again after a while.
 */
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statfsSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {messageOf, systemCodeOf} from '../errors.js'

/** A memory-backed directory is used only with at least this much room. */
const MIN_SHM_FREE_BYTES = 256 * 1024 * 1024
/** After a failure, files are tried again this much later. */
const RETRY_AFTER_MS = 30_000

/** Directories made by this process, still in use: never swept, removed at exit. */
const live = new Set<string>()
let exitHook = false

/** /dev/shm when it is a directory with room, else the OS temp directory. */
export function defaultInsertFileBase(): string {
  try {
    const shm = '/dev/shm'
    if (statSync(shm).isDirectory()) {
      const fs = statfsSync(shm)
      if (fs.bavail * fs.bsize >= MIN_SHM_FREE_BYTES) return shm
    }
  } catch {
    // no /dev/shm here
  }

  return os.tmpdir()
}

/**
 * The name every insert-file directory of this data directory starts with. It hashes the
 * directory's real path, device and inode, so two data directories never share it.
 */
export function insertFileScope(dataDir: string): string {
  const real = realpathSync(dataDir)
  const {dev, ino} = statSync(real)
  const hash = createHash('sha256').update(`${real}\0${dev}\0${ino}`).digest('hex').slice(0, 16)
  return `logbench-insert-${hash}-`
}

export interface InsertFilesOptions {
  /** The store's data directory (its files are scoped by it). */
  dataDir: string
  /** Where the directory is made (default: defaultInsertFileBase()). */
  base?: string
  /** Told once when files cannot be used. */
  warn: (message: string) => void
  /** Clock, for the retry after a failure. */
  now?: () => number
}

export class InsertFiles {
  readonly base: string
  private readonly scope: string
  private dir: string | undefined
  private next = 0
  private failedAt: number | undefined
  private warned = false
  private readonly now: () => number

  constructor(private readonly options: InsertFilesOptions) {
    this.base = options.base ?? defaultInsertFileBase()
    this.scope = insertFileScope(options.dataDir)
    this.now = options.now ?? Date.now
  }

  /** Remove the directories of this data directory that no live store of this process made. */
  sweep(): string[] {
    let names: string[]
    try {
      names = readdirSync(this.base)
    } catch {
      return []
    }

    const removed: string[] = []
    for (const name of names) {
      const dir = path.join(this.base, name)
      if (!name.startsWith(this.scope) || live.has(dir)) continue
      try {
        rmSync(dir, {force: true, recursive: true})
        removed.push(dir)
      } catch {
        // another user's, or already gone
      }
    }

    return removed
  }

  /** The directory of this store, made on first use; undefined when it cannot be. */
  get directory(): string | undefined {
    return this.dir
  }

  /**
   * Can batches go through files now? Makes the directory and writes a probe file the
   * first time; false (with the one warning) when that fails, or within the retry delay
   * of the last failure.
   */
  usable(): boolean {
    if (this.failedAt !== undefined && this.now() - this.failedAt < RETRY_AFTER_MS) return false
    if (this.dir === undefined || this.failedAt !== undefined) {
      const probe = this.write(Buffer.alloc(0))
      if (probe === undefined) return false
      this.remove(probe)
    }

    return true
  }

  /** Write a batch to a new file; its path, or undefined (and the warning) when that fails. */
  write(body: Uint8Array): string | undefined {
    if (this.failedAt !== undefined && this.now() - this.failedAt < RETRY_AFTER_MS) return undefined
    let file: string | undefined
    try {
      file = path.join(this.ensureDir(), `${this.next++}.rowbinary`)
      try {
        writeFileSync(file, body, {mode: 0o600})
      } catch (error) {
        // The directory was removed under us (a temp cleaner): make it again, once.
        if (systemCodeOf(error) !== 'ENOENT') throw error
        file = path.join(this.ensureDir(true), `${this.next++}.rowbinary`)
        writeFileSync(file, body, {mode: 0o600})
      }

      this.failedAt = undefined
      return file
    } catch (error) {
      if (file) this.remove(file)
      this.fail(error)
      return undefined
    }
  }

  /** A file written by write() was not there when the engine came to read it. */
  lost(reason: string): void {
    this.fail(new Error(reason))
  }

  /** Remove a file written by write(); never throws. */
  remove(file: string): void {
    try {
      unlinkSync(file)
    } catch {
      // already gone
    }
  }

  /** Remove this store's directory and everything in it. */
  close(): void {
    if (this.dir === undefined) return
    rmSync(this.dir, {force: true, recursive: true})
    live.delete(this.dir)
    this.dir = undefined
  }

  private ensureDir(again = false): string {
    if (this.dir !== undefined && !again) return this.dir
    if (this.dir !== undefined) {
      live.delete(this.dir)
      this.dir = undefined
    }

    mkdirSync(this.base, {recursive: true})
    // mkdtemp: a name no one could have made beforehand, mode 0700.
    const dir = mkdtempSync(path.join(this.base, `${this.scope}${process.pid}-`))
    live.add(dir)
    this.dir = dir
    if (!exitHook) {
      exitHook = true
      process.once('exit', () => {
        for (const left of live) rmSync(left, {force: true, recursive: true})
      })
    }

    return dir
  }

  private fail(error: unknown): void {
    this.failedAt = this.now()
    if (this.warned) return
    this.warned = true
    const where = this.dir ?? path.join(this.base, `${this.scope}…`)
    this.options.warn(
      `the embedded engine's insert files cannot be written in ${where} (${systemCodeOf(error) ?? messageOf(error)}): ` +
        'batches go in as JSONEachRow instead, which costs the engine more CPU but loses nothing; ' +
        `make room in or grant write access to ${this.base} (files are tried again every ${RETRY_AFTER_MS / 1000} s)`,
    )
  }
}
