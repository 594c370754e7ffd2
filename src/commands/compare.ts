import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {exitCodesHelp} from '../lib/errors.js'
import {historyLocationOf, historyUrlFlag} from '../flags.js'
import {type CompareReport, parseGate, parsePractical, runComparison} from '../lib/history/compare/index.js'
import {renderComparison, renderMarkdown} from '../lib/history/compare/render.js'
import {openHistory} from '../lib/history/index.js'

export default class Compare extends BaseCommand {
  static summary = 'Compare a contender run with a base run, metric by metric, with statistics a CI job can trust.'
  static description = `BASE and CONTENDER are each a run id from "logbench runs", @last, @prev, baseline:NAME, or the path of a result file (run, parallel, merge or capacity --json), so compare works with no history at all. Several references separated by commas make one side of several runs (A1,A2,A3).

Metrics: throughput; p50, p90, p99, p99.9; error rate; lost logs; read-back delay; for capacity runs the maximum sustainable rate. Each row shows base, contender, the change, its 95% confidence interval, the p-value and a verdict: improved, regressed, ~ (no change) or unstable.

The evidence is the steady part of each run: its timeline's intervals without a warm-up, the first and the last. Throughput and error rate are compared with the Mann–Whitney U test over the per-interval values; latency percentiles with a bootstrap over intervals of the merged interval histograms (in blocks of consecutive intervals when they are correlated; the effective sample size is printed). With several runs a side, each run's own figure is one sample. A change counts only when p < 0.05 and it is at least --practical (5%) and beyond the metric's own spread; a metric whose own interval-to-interval spread (half its interquartile range over its median) is wider than --practical is unstable. Lost logs and the read-back delay are one figure a run, compared as measured; capacity maxima by their brackets (the highest rate that passed, the lowest that failed).

Configuration differences (target, protocol, batch size, rate or stages, workers, ClickHouse version, table, ...) are named before the table and warned about, never refused.

It ends 0 when it compared, whatever the verdicts, and 4 only when a metric regressed significantly by more than a --fail-on limit; 2 for an unknown run id, a file that is not a logbench result or an unknown metric in --fail-on; 3 when the history cannot be read.

${exitCodesHelp([0, 1, 2, 3, 4])}`

  static examples = [
    {command: '<%= config.bin %> compare @prev @last', description: 'The last run against the one before it'},
    {command: "<%= config.bin %> compare baseline:main @last --fail-on 'p99:+10%' --fail-on 'throughput:-5%'", description: 'A CI gate: exit 4 on a significant regression beyond the limits'},
    {command: '<%= config.bin %> compare before.json after.json --format markdown >> "$GITHUB_STEP_SUMMARY"', description: 'Two result files, as markdown for a job summary'},
    {command: '<%= config.bin %> compare run-a1,run-a2,run-a3,run-a4 run-b1,run-b2,run-b3,run-b4 --json', description: 'Four runs a side, each run one sample'},
  ]

  static args = {
    base: Args.string({description: 'the base: a run id, @last, @prev, baseline:NAME or a result file (several with commas)', required: true}),
    contender: Args.string({description: 'the contender, as the base', required: true}),
  }

  static flags = {
    practical: Flags.string({default: '5%', description: 'a change smaller than this never counts, however significant'}),
    'fail-on': Flags.string({
      description: "exit 4 when METRIC regressed significantly by more than PERCENT, e.g. 'p99:+10%', 'throughput:-5%', 'error_rate:+50%', 'lost:0%' (repeatable)",
      multiple: true,
      multipleNonGreedy: true,
    }),
    format: Flags.string({default: 'table', description: 'table (a terminal) or markdown (a CI job summary, a pull-request comment)', options: ['table', 'markdown']}),
    ...historyUrlFlag,
  }

  async run(): Promise<CompareReport> {
    const {args, flags} = await this.parse(Compare)
    const practicalPercent = parsePractical(flags.practical)
    const gates = (flags['fail-on'] ?? []).map((expression) => parseGate(expression))
    const location = historyLocationOf(flags, this.env)
    const {report} = await runComparison({
      base: args.base,
      contender: args.contender,
      cwd: process.cwd(),
      gates,
      openHistory: () => openHistory(location),
      practicalPercent,
    })
    if (report.differences.length > 0) {
      process.stderr.write(`warning: the runs were set up differently: ${report.differences.map((d) => `${d.field} (${d.base} → ${d.contender})`).join(', ')}\n`)
    }

    if (!this.jsonEnabled()) this.log(flags.format === 'markdown' ? renderMarkdown(report).trimEnd() : renderComparison(report))
    this.endRun({failed: report.regressions.length > 0, interrupted: false})
    return report
  }
}
