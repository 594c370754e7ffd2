import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {exitCodesHelp} from '../../lib/errors.js'
import {historyLocationOf, historyUrlFlag} from '../../flags.js'
import {resolveReference} from '../../lib/history/compare/reference.js'
import {type Baseline, openHistory, recordFile} from '../../lib/history/index.js'
import {assertBaselineName} from '../../lib/history/store/types.js'

export default class BaselineSet extends BaseCommand {
  static summary = 'Name a run as a baseline, e.g. main, for "logbench compare baseline:main @last".'
  static description = `RUN is a run id from "logbench runs", @last, @prev, another baseline:NAME, or a result file (run, parallel, merge or capacity --json), which is then recorded in the history first. Setting a name again moves it to the new run.

${exitCodesHelp([0, 1, 2, 3])}`

  static examples = [
    {command: '<%= config.bin %> baseline set main @last', description: 'The last run becomes the baseline "main"'},
    {command: '<%= config.bin %> baseline set main result.json', description: 'A saved result becomes the baseline (recorded in the history)'},
  ]

  static args = {
    name: Args.string({description: 'the baseline\'s name: letters, digits, ".", "_", "-"', required: true}),
    run: Args.string({description: 'a run id, @last, @prev, baseline:NAME or a result file', required: true}),
  }

  static flags = {...historyUrlFlag}

  async run(): Promise<Baseline & {history: string}> {
    const {args, flags} = await this.parse(BaselineSet)
    assertBaselineName(args.name)
    const history = await openHistory(historyLocationOf(flags, this.env))
    try {
      const run = await resolveReference(args.run, {cwd: process.cwd(), history: async () => history})
      let id = run.record?.id
      if (run.source === 'file') {
        // The same result recorded before is not recorded twice.
        const same = run.result.runId ? (await history.match(run.result.runId)).find((s) => s.startedAt === (run.result.startedAt ?? null) && s.kind === run.result.kind) : undefined
        id = same?.id ?? (await recordFile(history, run.result, {logbenchVersion: this.config.version}))
      }

      const baseline = await history.setBaseline(args.name, id!)
      if (!this.jsonEnabled()) this.log(`baseline ${baseline.name} → ${baseline.id}${run.source === 'file' ? ` (${args.run}, recorded in ${history.location})` : ''}`)
      return {...baseline, history: history.location}
    } finally {
      await history.close()
    }
  }
}
