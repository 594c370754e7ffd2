import {Args, Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../base-command.js'
import {exitCodesHelp} from '../lib/errors.js'
import {readResultDocument} from '../lib/load/result/read.js'
import {writeHtmlReport} from '../lib/report/html/file.js'

export default class Report extends BaseCommand {
  static summary = 'Render a saved result as the HTML report: charts over time, configuration, workers, verification, verdict.'
  static description = `Reads a document written by "logbench run --json", "parallel --json" or "merge --json" (also of an interrupted run) and writes the same self-contained page that --report writes: inline styles and SVG charts, nothing fetched when it is opened, readable in a narrow window and printable.

${exitCodesHelp([0, 1, 2])}`

  static examples = [
    {command: '<%= config.bin %> report result.json -o report.html', description: 'The HTML report of a saved run'},
  ]

  static args = {
    result: Args.string({description: 'a result file (run, parallel or merge --json)', required: true}),
  }

  static flags = {
    output: Flags.string({char: 'o', description: 'the HTML file to write [default: the result file with .html]'}),
  }

  async run(): Promise<{file: string; kind: string; runId: string}> {
    const {args, flags} = await this.parse(Report)
    const result = await readResultDocument(args.result)
    const file = flags.output ?? path.join(path.dirname(args.result), `${path.basename(args.result, path.extname(args.result))}.html`)
    await writeHtmlReport(file, result)
    if (!this.jsonEnabled()) this.log(`report of ${result.kind} ${result.runId} written to ${file}`)
    return {file, kind: result.kind, runId: result.runId}
  }
}
