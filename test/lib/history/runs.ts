/** Real runs for the history and compare tests: `logbench run --json` against a test target, saved to a file. */
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {repoRoot, runCli} from '../../helpers.js'

/** A short open-model run: the rate fixes the throughput, so only the target's latency differs between runs. */
export const SHORT_RUN = ['--rate', '750', '--batch-size', '5', '--max-in-flight', '1000', '--duration', '8s']

export async function runToFile(target: string, file: string, args: string[] = SHORT_RUN): Promise<Record<string, unknown>> {
  const run = await runCli(['run', '--target', target, ...args, '--json'])
  expect(run.code, run.stderr).to.equal(0)
  writeFileSync(file, run.stdout)
  return JSON.parse(run.stdout)
}

/** recordRun in a process of its own (the embedded engine allows one data directory a process), for each file with its tags. */
export function recordInChild(cwd: string, historyUrl: string, files: readonly {file: string; tags?: Record<string, string>}[]): Promise<{outcomes: {recorded: boolean; id?: string; reason?: string}[]; stderr: string}> {
  const script = path.join(repoRoot, 'test', 'lib', 'history', 'record-file.ts')
  const args = files.flatMap(({file, tags}) => [file, JSON.stringify(tags ?? {})])
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, cwd, historyUrl, ...args], {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`record-file exited ${code}: ${stderr}`))
      else resolve({outcomes: JSON.parse(stdout), stderr})
    })
  })
}
