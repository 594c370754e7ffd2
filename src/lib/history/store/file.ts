/**
 * The history as files under `.logbench/history` in the working directory,
 * beside the embedded engine's data, needing no server:
 *
 *   runs/<id>.json        one record a file: the whole result and what surrounds it
 *   index/<id>.json       its summary, so listing reads small files only
 *   baselines/<name>.json the record a baseline names
 *
 * Every file is written under a temporary name (starting with ".", which
 * readers skip), flushed, then moved into place, so a reader never sees half a
 * file and a crash leaves at most a stray temporary. A record takes its id
 * with a hard link, which fails when the name exists: concurrent writers of one
 * run id each get an id of their own (id, id-2, ...) and never overwrite each
 * other. A record whose summary is missing (a crash between the two writes) is
 * still listed: the summary is rebuilt from the record.
 */
import {randomBytes} from 'node:crypto'
import {link, mkdir, open, readdir, readFile, rename, unlink} from 'node:fs/promises'
import path from 'node:path'

import type {Baseline, HistoryStore, ListOptions} from './types.js'

import {environmentError, messageOf} from '../../errors.js'
import {candidateId, hasTags, newestFirst, type RecordSummary, type RunRecord, summaryOf} from '../record/record.js'
import {assertBaselineName, matchSummaries} from './types.js'

const MAX_CANDIDATES = 1000

const tempName = (dir: string, name: string) => path.join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)

async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx')
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Write `text` to `file` atomically: a reader sees the old file or the whole new one. */
async function replaceFile(file: string, text: string): Promise<void> {
  const temp = tempName(path.dirname(file), path.basename(file))
  await writeDurably(temp, text)
  try {
    await rename(temp, file)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}

const isJsonFile = (name: string) => name.endsWith('.json') && !name.startsWith('.')

async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }

  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter(isJsonFile)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

export class FileHistory implements HistoryStore {
  readonly location: string
  private readonly runsDir: string
  private readonly indexDir: string
  private readonly baselinesDir: string

  constructor(readonly dir: string) {
    this.location = path.resolve(dir)
    this.runsDir = path.join(this.location, 'runs')
    this.indexDir = path.join(this.location, 'index')
    this.baselinesDir = path.join(this.location, 'baselines')
  }

  async add(record: RunRecord): Promise<string> {
    try {
      await mkdir(this.runsDir, {recursive: true})
      await mkdir(this.indexDir, {recursive: true})
      const base = record.id
      let temp: string | undefined
      try {
        for (let n = 1; n <= MAX_CANDIDATES; n++) {
          const id = candidateId(base, n)
          const final = { ...record, id }
          if (temp) await unlink(temp).catch(() => {})
          temp = tempName(this.runsDir, id)
          await writeDurably(temp, JSON.stringify(final))
          if (await this.claim(temp, path.join(this.runsDir, `${id}.json`), JSON.stringify(final))) {
            await replaceFile(path.join(this.indexDir, `${id}.json`), JSON.stringify(summaryOf(final)))
            return id
          }
        }
      } finally {
        if (temp) await unlink(temp).catch(() => {})
      }

      throw new Error(`${MAX_CANDIDATES} records already use the id ${base}`)
    } catch (error) {
      throw environmentError(`cannot write the run history in ${this.location}: ${messageOf(error)}`, 'check that the directory is writable, or pass --history-url', error)
    }
  }

  /** Take `final` for the file at `temp`; false when the name is taken. */
  private async claim(temp: string, final: string, text: string): Promise<boolean> {
    try {
      await link(temp, final)
      return true
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') return false
      // A file system without hard links: create the name exclusively instead.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
        try {
          await writeDurably(final, text)
          return true
        } catch (inner) {
          if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false
          throw inner
        }
      }

      throw error
    }
  }

  async get(id: string): Promise<RunRecord | undefined> {
    if (!isJsonFile(`${id}.json`) || id.includes('/') || id.includes('\\')) return undefined
    const record = await this.read(() => readJson<RunRecord>(path.join(this.runsDir, `${id}.json`)))
    return record && typeof record === 'object' && record.result ? record : undefined
  }

  async list(options: ListOptions = {}): Promise<RecordSummary[]> {
    const all = await this.read(() => this.summaries())
    const tagged = options.tags ? all.filter((s) => hasTags(s, options.tags!)) : all
    const sorted = tagged.sort(newestFirst)
    return options.limit === undefined ? sorted : sorted.slice(0, options.limit)
  }

  async match(text: string): Promise<RecordSummary[]> {
    return matchSummaries(await this.list(), text).sort(newestFirst)
  }

  async setBaseline(name: string, id: string): Promise<Baseline> {
    assertBaselineName(name)
    const baseline: Baseline = {id, name, setAt: new Date().toISOString()}
    try {
      await mkdir(this.baselinesDir, {recursive: true})
      await replaceFile(path.join(this.baselinesDir, `${name}.json`), JSON.stringify(baseline))
    } catch (error) {
      throw environmentError(`cannot write the baseline in ${this.location}: ${messageOf(error)}`, 'check that the directory is writable, or pass --history-url', error)
    }

    return baseline
  }

  async baselines(): Promise<Baseline[]> {
    const files = await this.read(() => names(this.baselinesDir))
    const all = await Promise.all(files.map((file) => this.read(() => readJson<Baseline>(path.join(this.baselinesDir, file)))))
    return all.filter((b): b is Baseline => Boolean(b && typeof b.name === 'string' && typeof b.id === 'string')).sort((a, b) => a.name.localeCompare(b.name))
  }

  async baseline(name: string): Promise<Baseline | undefined> {
    assertBaselineName(name)
    const baseline = await this.read(() => readJson<Baseline>(path.join(this.baselinesDir, `${name}.json`)))
    return baseline && typeof baseline.id === 'string' ? baseline : undefined
  }

  async deleteBaseline(name: string): Promise<boolean> {
    assertBaselineName(name)
    try {
      await unlink(path.join(this.baselinesDir, `${name}.json`))
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw environmentError(`cannot remove the baseline ${name} in ${this.location}: ${messageOf(error)}`)
    }
  }

  async close(): Promise<void> {}

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw environmentError(`cannot read the run history in ${this.location}: ${messageOf(error)}`, 'check the directory\'s permissions, or pass --history-url', error)
    }
  }

  /** Every summary; a record without one (a crash between the two writes) gets it rebuilt. */
  private async summaries(): Promise<RecordSummary[]> {
    const [indexed, recorded] = await Promise.all([names(this.indexDir), names(this.runsDir)])
    const summaries = (await Promise.all(indexed.map((file) => readJson<RecordSummary>(path.join(this.indexDir, file))))).filter(
      (s): s is RecordSummary => Boolean(s && typeof s.id === 'string' && typeof s.recordedAt === 'string'),
    )
    // A summary whose record is gone (removed by hand) is not listed: it could not be read.
    const present = new Set(recorded.map((file) => file.slice(0, -'.json'.length)))
    const listed = summaries.filter((s) => present.has(s.id))
    const known = new Set(listed.map((s) => s.id))
    for (const file of recorded) {
      const id = file.slice(0, -'.json'.length)
      if (known.has(id)) continue
      const record = await readJson<RunRecord>(path.join(this.runsDir, file))
      if (!record || typeof record.id !== 'string' || !record.result) continue
      const summary = summaryOf(record)
      listed.push(summary)
      await replaceFile(path.join(this.indexDir, file), JSON.stringify(summary)).catch(() => {})
    }

    return listed
  }
}
