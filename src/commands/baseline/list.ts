import {BaseCommand} from '../../base-command.js'
import {exitCodesHelp} from '../../lib/errors.js'
import {historyLocationOf, historyUrlFlag} from '../../history-flags.js'
import {type Baseline, openHistory} from '../../lib/history/index.js'
import {renderBaselines} from '../../lib/history/record/render.js'

export default class BaselineList extends BaseCommand {
  static summary = 'List the baselines: names given to runs of the history.'
  static description = `${exitCodesHelp([0, 1, 2, 3])}`
  static description = 'Each baseline names one run of the history; "logbench compare baseline:NAME …" compares against it. Exit codes: 0 ok, 2 usage, 3 the history cannot be read.'
  static examples = ['<%= config.bin %> baseline list', '<%= config.bin %> baseline list --json']
  static flags = {...historyUrlFlag}

  async run(): Promise<{history: string; baselines: Baseline[]}> {
    const {flags} = await this.parse(BaselineList)
    const history = await openHistory(historyLocationOf(flags, this.env))
    try {
      const baselines = await history.baselines()
      if (!this.jsonEnabled()) this.log(renderBaselines(baselines, history.location))
      return {baselines, history: history.location}
    } finally {
      await history.close()
    }
  }
}
