/**
 * Records result files through recordRun in a process of its own, as the
 * load commands do after a run: `tsx record-file.ts CWD HISTORY_URL FILE TAGS_JSON [FILE TAGS_JSON]...`
 * (HISTORY_URL '' for the default). Prints the outcomes as JSON; warnings go to stderr.
 */
import {readFileSync} from 'node:fs'

import {recordRun} from '../../../src/lib/history/record/recorder.js'

const [cwd, historyUrl, ...pairs] = process.argv.slice(2)
const outcomes = []
for (let i = 0; i < pairs.length; i += 2) {
  outcomes.push(
    await recordRun({
      argv: ['--json'],
      command: 'run',
      cwd,
      exitCode: 0,
      historyUrl: historyUrl || undefined,
      logbenchVersion: '0.1.0',
      result: JSON.parse(readFileSync(pairs[i], 'utf8')),
      tags: JSON.parse(pairs[i + 1] || '{}'),
      warn: (line) => process.stderr.write(`warning: ${line}\n`),
    }),
  )
}

process.stdout.write(JSON.stringify(outcomes) + '\n')
