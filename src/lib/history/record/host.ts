/** Where a run ran: the host's CPU, and the git commit of the working directory. */
import {execFile} from 'node:child_process'
import os from 'node:os'

export interface HostInfo {
  name: string
  cpuModel: string
  cores: number
  platform: string
  node: string
}

export function hostInfo(): HostInfo {
  const cpus = os.cpus()
  return {
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: (cpus[0]?.model ?? 'unknown').replaceAll(/\s+/g, ' ').trim(),
    name: os.hostname(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  }
}

export interface GitInfo {
  commit: string
  /** Tracked files differ from the commit. */
  dirty: boolean
}

function git(cwd: string, args: string[], timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['-C', cwd, ...args], {encoding: 'utf8', timeout: timeoutMs, windowsHide: true}, (error, stdout) => resolve(error ? undefined : stdout))
  })
}

/** The commit checked out in `cwd`, or null when it is not a git working tree (or git is missing). */
export async function gitInfo(cwd: string, timeoutMs = 3000): Promise<GitInfo | null> {
  const head = (await git(cwd, ['rev-parse', '--verify', '-q', 'HEAD'], timeoutMs))?.trim()
  if (!head || !/^[0-9a-f]{40,64}$/.test(head)) return null
  const status = await git(cwd, ['status', '--porcelain', '--untracked-files=no'], timeoutMs)
  return {commit: head, dirty: status !== undefined && status.trim() !== ''}
}
