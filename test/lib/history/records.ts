/** History records of synthetic runs, for the store and command tests. */
import {buildRecord, type RunRecord} from '../../../src/lib/history/record/record.js'
import {syntheticRun} from './docs.js'

const host = {cores: 2, cpuModel: 'Test CPU', name: 'test-host', node: 'v24.0.0', platform: 'linux-x64'}

export function record(seed: number, options: {runId?: string; at?: string; tags?: Record<string, string>; intervals?: number; worker?: {index: number; count: number}} = {}): RunRecord {
  const result = syntheticRun({config: options.worker ? {worker: options.worker} : {}, intervals: options.intervals ?? 8, runId: options.runId, seed})
  return buildRecord({
    clickhouse: {table: 'logs_db.logs', version: '18.16.1'},
    command: 'run',
    exitCode: 0,
    git: null,
    host,
    logbenchVersion: '0.1.0',
    now: new Date(options.at ?? `2025-03-02T08:00:${String(seed % 60).padStart(2, '0')}.000Z`),
    result,
    tags: options.tags ?? {},
  })
}

