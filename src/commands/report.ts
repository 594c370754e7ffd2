import {Args, Flags} from '@oclif/core'
import {writeFile} from 'node:fs/promises'
import path from 'node:path'

import {BaseCommand} from '../base-command.js'
import {historyLocationOf, historyUrlFlag} from '../flags.js'
import {exitCodesHelp, usageError} from '../lib/errors.js'
import {parsePractical, runComparison} from '../lib/history/compare/index.js'
import {openHistory} from '../lib/history/index.js'
import {readResultDocument} from '../lib/load/result/read.js'
import {renderCompareHtml} from '../lib/report/html/compare.js'
import {writeHtmlReport} from '../lib/report/html/file.js'

export default class Report extends BaseCommand {
  static summary = 'Render a saved result as the HTML report: charts over time, configuration, workers, verification, verdict.'
  static description = `Reads a document written by "logbench run --json", "parallel --json" or "merge --json" (also of an interrupted run) and writes the same self-contained page that --report writes: inline styles and SVG charts, nothing fetched when it is opened, readable in a narrow window and printable.

With --compare, RESULT and CONTENDER are a base and a contender as "logbench compare" takes them (run ids, @last, @prev, baseline:NAME or result files), and the page overlays their throughput and p99 over time on a relative clock, with the comparison table.

${exitCodesHelp([0, 1, 2, 3])}`

  static examples = [
    {command: '<%= config.bin %> report result.json -o report.html', description: 'The HTML report of a saved run'},
    {command: '<%= config.bin %> report --compare baseline:main @last -o compare.html', description: 'Two runs side by side: throughput and p99 over time, and the comparison'},
  ]

  static args = {
    result: Args.string({description: 'a result file (run, parallel or merge --json); with --compare, the base', required: true}),
    contender: Args.string({description: 'with --compare: the contender'}),
  }

  static flags = {
    output: Flags.string({char: 'o', description: 'the HTML file to write [default: the result file with .html; compare.html with --compare]'}),
    compare: Flags.boolean({description: 'compare RESULT (the base) with CONTENDER, as "logbench compare" does, on one page'}),
    practical: Flags.string({default: '5%', description: 'with --compare: a change smaller than this never counts'}),
    ...historyUrlFlag,
  }

  async run(): Promise<{file: string; kind: string; runId: string}> {
    const {args, flags} = await this.parse(Report)
    if (flags.compare || args.contender !== undefined) return this.comparison(args.result, args.contender, flags)
    const result = await readResultDocument(args.result)
    const file = flags.output ?? path.join(path.dirname(args.result), `${path.basename(args.result, path.extname(args.result))}.html`)
    await writeHtmlReport(file, result)
    if (!this.jsonEnabled()) this.log(`report of ${result.kind} ${result.runId} written to ${file}`)
    return {file, kind: result.kind, runId: result.runId}
  }

  private async comparison(base: string, contender: string | undefined, flags: {compare: boolean; output?: string; practical: string; 'history-url'?: string}): Promise<{file: string; kind: string; runId: string}> {
    if (!flags.compare) throw usageError('report takes one result, or two with --compare', `logbench report --compare ${base} ${contender} -o compare.html`)
    if (contender === undefined) throw usageError('report --compare needs a base and a contender', 'logbench report --compare baseline:main @last -o compare.html')
    const location = historyLocationOf(flags, this.env)
    const outcome = await runComparison({base, contender, cwd: process.cwd(), openHistory: () => openHistory(location), practicalPercent: parsePractical(flags.practical)})
    const file = flags.output ?? 'compare.html'
    try {
      await writeFile(file, renderCompareHtml(outcome.report, outcome.base, outcome.contender))
    } catch (error) {
      throw usageError(`cannot write the report to ${file}: ${(error as Error).message}`, 'give a writable path with -o')
    }

    const ids = (runs: typeof outcome.base) => runs.map((r) => r.label).join(',')
    if (!this.jsonEnabled()) this.log(`comparison of ${ids(outcome.base)} and ${ids(outcome.contender)} written to ${file}`)
    return {file, kind: 'compare', runId: `${ids(outcome.base)} → ${ids(outcome.contender)}`}
  }
}
