import type {RecordSummary, RunRecord} from '../record/record.js'

import {usageError} from '../../errors.js'

export interface ListOptions {
  /** At most this many, newest first. */
  limit?: number
  /** Only records carrying every one of these tags. */
  tags?: Record<string, string>
}

export interface Baseline {
  name: string
  /** The record it names. */
  id: string
  setAt: string
}

/**
 * A history of runs. Two back ends: files under `.logbench/history` (the
 * default) and a ClickHouse server or the embedded engine (`--history-url`).
 */
export interface HistoryStore {
  /** Where the history is, for people (no credentials). */
  readonly location: string
  /** Record a run; resolves to the id it was recorded under (its base id, or that id made unique). */
  add(record: RunRecord): Promise<string>
  /** Records, newest first. */
  list(options?: ListOptions): Promise<RecordSummary[]>
  get(id: string): Promise<RunRecord | undefined>
  /**
   * The records a typed reference may mean: the record with exactly this id;
   * else the records of this run id; else those whose id starts with it.
   */
  match(text: string): Promise<RecordSummary[]>
  setBaseline(name: string, id: string): Promise<Baseline>
  baselines(): Promise<Baseline[]>
  baseline(name: string): Promise<Baseline | undefined>
  /** Resolves to false when there was no such baseline. */
  deleteBaseline(name: string): Promise<boolean>
  close(): Promise<void>
}

/** Records a reference may mean, from a list of summaries (exact id, then run id, then id prefix). */
export function matchSummaries(summaries: readonly RecordSummary[], text: string): RecordSummary[] {
  const exact = summaries.filter((s) => s.id === text)
  if (exact.length > 0) return exact
  const byRun = summaries.filter((s) => s.runId === text)
  if (byRun.length > 0) return byRun
  return text.length >= 4 ? summaries.filter((s) => s.id.startsWith(text)) : []
}

const BASELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function assertBaselineName(name: string): string {
  if (!BASELINE_NAME.test(name)) throw usageError(`baseline name "${name}" is not valid`, 'use letters, digits, ".", "_" and "-", starting with a letter or digit (at most 64 characters), e.g. main')
  return name
}
