import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {exitCodesHelp} from '../lib/errors.js'
import {historyLocationOf, historyUrlFlag} from '../flags.js'
import {openHistory, parseTags, type RecordSummary} from '../lib/history/index.js'
import {renderRuns} from '../lib/history/record/render.js'

export default class Runs extends BaseCommand {
  static summary = 'List the history of runs, newest first: id, time, command, target, throughput, p99, verification, exit code.'
  static description = `run, parallel, merge and capacity record every result in a history: by default under .logbench/history in the working directory (beside the embedded engine's data), or in a ClickHouse server with --history-url (or LOGBENCH_HISTORY_URL), where a team shares it. Each record holds the whole --json result, the command line (secrets removed), logbench's version, the ClickHouse version and table, the host's CPU, the git commit of the working directory and the tags given with --tag.

The ids listed here are what "logbench compare" and "logbench baseline set" take.

${exitCodesHelp([0, 1, 2, 3])}`

  static examples = [
    {command: '<%= config.bin %> runs', description: 'The last 20 runs'},
    {command: '<%= config.bin %> runs --tag branch=main --limit 5 --json', description: 'The last 5 runs tagged branch=main, as JSON'},
    {command: '<%= config.bin %> runs --history-url http://clickhouse:8123', description: "A team's shared history"},
  ]

  static flags = {
    limit: Flags.integer({default: 20, description: 'list at most this many', min: 1}),
    tag: Flags.string({description: 'only runs recorded with this tag, key=value (repeatable: all of them)', multiple: true, multipleNonGreedy: true}),
    ...historyUrlFlag,
  }

  async run(): Promise<{history: string; runs: RecordSummary[]}> {
    const {flags} = await this.parse(Runs)
    const tags = parseTags(flags.tag)
    const history = await openHistory(historyLocationOf(flags, this.env))
    try {
      const runs = await history.list({limit: flags.limit, tags})
      if (!this.jsonEnabled()) this.log(renderRuns(runs, history.location, await history.baselines()))
      return {history: history.location, runs}
    } finally {
      await history.close()
    }
  }
}
