import {expect} from 'chai'
import chalk from 'chalk'

import {buildAggregate, workerReport} from '../../../src/lib/load/result/aggregate.js'
import {evaluateThresholds, parseThreshold} from '../../../src/lib/load/checks/thresholds.js'
import {wrap} from '../../../src/lib/report/format.js'
import {renderAggregate, renderRun, renderVerification} from '../../../src/lib/report/load.js'
import {workerResult} from '../load/results.js'

const verification = {acked: 1000, duplicated: 0, exact: true, missing: 0, ok: true, runId: 'run-agg', store: 'ClickHouse http://ch:8123 logs_db.logs', stored: 1000, unacknowledged: 0, unique: 1000, waitedMs: 0}

describe('report/load', () => {
  before(() => {
    chalk.level = 0
  })

  it('renders a run: configuration, results with units, latency table, errors, verification, thresholds', async () => {
    const result = await workerResult({count: 1, failBatches: [3], index: 0, latencyMs: 12, logs: 1000})
    result.verification = {...verification, acked: 900, missing: 0, stored: 900, unique: 900}
    result.thresholds = evaluateThresholds([parseThreshold('p99<=5ms'), parseThreshold('lost==0')], result)
    const text = renderRun(result)
    for (const section of ['Configuration', 'Results', 'Errors', 'Verification', 'Thresholds']) expect(text).to.include(section)
    expect(text).to.match(/logs\s+1,000 sent, 900 acknowledged, 100 failed/)
    expect(text).to.match(/throughput\s+[\d,]+ logs\/s/)
    expect(text).to.include('p50 (ms)')
    expect(text).to.include('p99.9 (ms)')
    expect(text).to.match(/http_400 +│ rejected +│ +100 │ +1 │ +0 │ HTTP 400: \{"error":"bad"\}/)
    expect(text).to.include('every acknowledged log is stored')
    expect(text).to.match(/FAIL {2}p99<=5ms {2}\(measured 12/)
    expect(text).to.match(/pass {2}lost==0/)
    expect(text).to.match(/worker cost\s+0\.00 µs CPU a log, peak RSS 50\.00 MiB/)
  })

  it('says why a run was not verified, and shows missing logs loudly', () => {
    expect(renderVerification({verification: null})).to.include('--clickhouse-url')
    expect(renderVerification({verification: null}, 'not verified (--no-verify)')).to.include('--no-verify')
    const text = renderVerification({verification: {...verification, duplicated: 4, missing: 7, ok: false, stored: 997, unique: 993}})
    expect(text).to.include('7 acknowledged logs are MISSING')
    expect(text).to.match(/duplicated\s+4/)
  })

  it("renders the guide's aggregate report: per-worker table with units, totals, averages, assessment", async () => {
    const a = await workerResult({count: 3, index: 0, latencyMs: 10, logs: 2000})
    const b = await workerResult({count: 3, index: 1, latencyMs: 20, logs: 2000})
    const result = buildAggregate(
      'parallel',
      'run-agg',
      [workerReport(0, a, {status: 'ok'}), workerReport(1, b, {status: 'ok'}), workerReport(2, undefined, {error: 'killed by SIGKILL before reporting a result', signal: 'SIGKILL', status: 'failed'})],
      {interrupted: false},
    )
    const text = renderAggregate(result, {stack: 'serve on http://127.0.0.1:1 → embedded engine'})
    for (const section of ['Test Configuration', 'Individual Worker Performance', 'Aggregate Results', 'Errors', 'Verification', 'Performance Assessment']) {
      expect(text).to.include(section)
    }

    expect(text).to.include('duration (s)')
    expect(text).to.include('throughput (logs/s)')
    expect(text).to.match(/workers\s+3/)
    expect(text).to.match(/logs per worker\s+2,000/)
    expect(text).to.match(/successful workers\s+2\/3/)
    expect(text).to.match(/failed workers\s+1/)
    expect(text).to.match(/total logs\s+4,000 acknowledged of 4,000 sent/)
    expect(text).to.match(/average throughput per worker\s+[\d,]+ logs\/s/)
    expect(text).to.include('worker 3: killed by SIGKILL before reporting a result')
    expect(text).to.include('FAILED: 1 of 3 workers failed')
    expect(text).to.include('merged histograms')
    expect(text).to.match(/stack\s+serve on http:\/\/127\.0\.0\.1:1/)
  })

  it('wraps prose to the terminal width at word boundaries, keeping a list indented; one line each without a width', async () => {
    expect(wrap('aaa bbb ccc ddd', 9, '  ', '    ')).to.equal('  aaa bbb\n    ccc\n    ddd')
    expect(wrap('aaa bbb ccc ddd', undefined, '  ')).to.equal('  aaa bbb ccc ddd')
    // Colour codes take no columns.
    expect(wrap(`\u001B[31maaa\u001B[39m bbb`, 9, '  ')).to.equal(`  \u001B[31maaa\u001B[39m bbb`)
    const result = await workerResult({count: 1, index: 0, latencyMs: 12, logs: 1000})
    result.bottleneck = {
      evidence: ['the generator kept its event loop busy 40% of the time (median interval), using 38% of a CPU core (median interval), which is a long line of evidence that a terminal of 120 columns would cut in the middle of a word'],
      kind: 'target',
      summary: 'The target set the pace: the generators had time to spare while each of their 4 batches in flight waited 270 ms (p50) for its answer; raise --concurrency or add workers to push harder.',
    }
    result.verification = {...verification, store: 'ClickHouse 18.16.1 at http://127.0.0.1:8123, table a_rather_long_database_name_for_a_test.logs_of_the_ingest_pipeline_under_test_today'}
    const wide = renderRun(result, {width: 120})
    for (const line of wide.split('\n')) expect(line.length, line).to.be.at.most(120)
    // Continuation lines of the verdict's evidence keep the list's indent; the store line hangs under its value.
    expect(wide).to.match(/\n {2}- the generator kept[^\n]*\n {4}\S/)
    expect(wide).to.match(/stored {22}1,000 rows of run [^\n]*\n {30}\S/)
    expect(renderRun(result)).to.include(result.bottleneck.summary)
  })
})
