import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {historyLocationOf, historyUrlFlag} from '../../flags.js'
import {exitCodesHelp, usageError} from '../../lib/errors.js'
import {openHistory} from '../../lib/history/index.js'

export default class BaselineDelete extends BaseCommand {
  static summary = 'Remove a baseline name (the run it named stays in the history).'
  static description = `The run the baseline named stays in the history.

${exitCodesHelp([0, 1, 2, 3])}`
  static examples = ['<%= config.bin %> baseline delete release-1.0']
  static args = {name: Args.string({description: 'the baseline to remove', required: true})}
  static flags = {...historyUrlFlag}

  async run(): Promise<{history: string; name: string; deleted: boolean}> {
    const {args, flags} = await this.parse(BaselineDelete)
    const history = await openHistory(historyLocationOf(flags, this.env))
    try {
      if (!(await history.deleteBaseline(args.name))) {
        const names = (await history.baselines()).map((b) => b.name)
        throw usageError(`no baseline "${args.name}" in the history at ${history.location}`, names.length > 0 ? `baselines: ${names.join(', ')}` : undefined)
      }

      if (!this.jsonEnabled()) this.log(`baseline ${args.name} removed`)
      return {deleted: true, history: history.location, name: args.name}
    } finally {
      await history.close()
    }
  }
}
