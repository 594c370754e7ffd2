import {spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {DatasetOptions} from './data.js'

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'embedded-child.ts')

/**
 * Seed and/or query an embedded data directory from a separate Node process
 * (see embedded-child.ts). `{table}` in a query is the logs table. Resolves
 * with one array of rows per query.
 */
export function inEmbeddedChild(job: {dataDir: string; database: string; commands?: string[]; afterSeed?: string[]; seed?: DatasetOptions; queries?: string[]; ifTableExists?: boolean}): Promise<Record<string, unknown>[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(job)], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`embedded child exited ${code}: ${stderr}`))
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>[][])
    })
  })
}
