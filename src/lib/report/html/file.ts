/**
 * The HTML report as a file: written by `--report` from the result in hand,
 * and by `logbench report` from a saved `--json` document (the same page;
 * load/result/read.ts reads it).
 */
import {writeFile} from 'node:fs/promises'

import type {AggregateResult, RunResult} from '../../load/result/types.js'

import {usageError} from '../../errors.js'
import {renderHtmlReport} from './report.js'

export async function writeHtmlReport(file: string, result: RunResult | AggregateResult): Promise<void> {
  try {
    await writeFile(file, renderHtmlReport(result))
  } catch (error) {
    throw usageError(`cannot write the report to ${file}: ${(error as Error).message}`, 'give a writable path, e.g. --report report.html')
  }
}
