import {BaseCommand} from '../../base-command.js'
import {exitCodesHelp} from '../../lib/errors.js'
import {historyLocationOf, historyUrlFlag} from '../../flags.js'
import {type Baseline, openHistory} from '../../lib/history/index.js'
import {renderBaselines} from '../../lib/history/record/render.js'

export default class BaselineList extends BaseCommand {
  static summary = 'List the baselines: names given to runs of the history.'
  static description = `Each baseline names one run of the history; "logbench compare baseline:NAME …" compares against it.

${exitCodesHelp([0, 1, 2, 3])}`
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
