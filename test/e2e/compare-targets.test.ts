/**
 * compare on real runs against test targets of known difference, started here:
 * - a steady target (every answer after 2 s): runs against it are never
 *   flagged, in six repetitions;
 * - a slow target (3 s): the same load is flagged regressed at p99, and
 *   --fail-on 'p99:+25%' exits 4;
 * - a noisy target (its delay jumps between 1 and 4 s every second,
 *   from a seeded source): two runs against it are unstable, not regressed;
 * and `compare @prev @last` on recorded runs, and the HTML comparison in
 * headless Chromium (Debian's, driven by playwright-core, offline).
 *
 * The runs are open-model (--rate), so throughput is set by the schedule and
 * not by the machine's speed; only the targets' latencies differ. The targets
 * answer after two seconds or more, so the scheduling delays of a busy shared
 * machine (tens of ms at p99) stay far below the 5% threshold. Each run sends
 * for 8 s at 150 batches a second: once the first answers are in and before
 * the load stops, its steady one-second intervals hold enough latencies beyond
 * p99 to judge it.
 */
import {expect} from 'chai'
import {existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {type Browser, chromium} from 'playwright-core'

import {runComparison} from '../../src/lib/history/compare/index.js'
import {openHistory, historyLocation} from '../../src/lib/history/index.js'
import {seededRandom} from '../../src/lib/history/stats/random.js'
import {runCli, tempDir} from '../helpers.js'
import {recordInChild, runToFile} from '../lib/history/runs.js'
import {type Sink, startSink} from '../lib/load/sink.js'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('e2e: compare on targets of known difference', function () {
  this.timeout(300_000)
  let dir: string
  let steady: Sink
  let slow: Sink
  let noisy: Sink
  const steadyRuns: string[] = []
  let slowRun: string
  const noisyRuns: string[] = []

  before(async () => {
    dir = tempDir('logbench-compare-e2e-')
    steady = await startSink({delayMs: 2000})
    slow = await startSink({delayMs: 3000})
    // The noisy target's latency jumps: every second it answers after another delay, 1-4 s (a seeded sequence),
    // so the p50 of one interval is far from the next one's, whatever the machine does.
    const random = seededRandom(2024)
    const levels = new Map<number, number>()
    noisy = await startSink({
      async answer(_request, logs) {
        const period = Math.floor(Date.now() / 1000)
        if (!levels.has(period)) levels.set(period, 1000 + random() * 3000)
        await sleep(levels.get(period)!)
        return {body: JSON.stringify({accepted: logs}), status: 202}
      },
    })
    const file = (name: string) => path.join(dir, name)
    // Three at a time against the steady target, two rounds: the pairs of a round are compared. A shared
    // machine's load changes from one minute to the next, and runs made at different times would
    // rightly differ by it; runs made together see the same machine. Light loads: 150 requests a second each.
    for (let round = 0; round < 2; round++) {
      const names = [0, 1, 2].map((k) => file(`steady-${round * 3 + k}.json`))
      steadyRuns.push(...names)
      await Promise.all(names.map((name) => runToFile(steady.url, name)))
    }

    slowRun = file('slow.json')
    noisyRuns.push(file('noisy-0.json'), file('noisy-1.json'))
    await Promise.all([runToFile(slow.url, slowRun), runToFile(noisy.url, noisyRuns[0]), runToFile(noisy.url, noisyRuns[1])])
  })

  after(async () => {
    await Promise.all([steady?.stop(), slow?.stop(), noisy?.stop()])
    if (dir && !process.env.LOGBENCH_KEEP_REPORT) rmSync(dir, {force: true, recursive: true})
  })

  const compare = (base: string, contender: string) =>
    runComparison({base, contender, cwd: dir, openHistory: () => openHistory(historyLocation({cwd: dir})), practicalPercent: 5, random: seededRandom(1)})

  it('never flags two runs against the same target, in six repetitions', async () => {
    const pairs = [0, 3].flatMap((first) => [[first, first + 1], [first + 1, first + 2], [first, first + 2]])
    for (const [i, [a, b]] of pairs.entries()) {
      const {report} = await compare(steadyRuns[a], steadyRuns[b])
      const flagged = report.metrics.filter((m) => m.verdict === 'regressed' || m.verdict === 'improved')
      const summary = report.metrics.map((m) => `${m.name} ${m.changePercent?.toFixed(1)}% p=${m.pValue?.toFixed(3)} spread=${m.spreadPercent?.toFixed(1)} ${m.verdict}`).join('; ')
      expect(flagged, `repetition ${i + 1}: ${summary}`).to.deep.equal([])
      expect(report.base.samples.n, summary).to.be.at.least(4)
      expect(report.differences).to.deep.equal([])
    }

    const gate = await runCli(['compare', steadyRuns[0], steadyRuns[1], '--fail-on', 'p99:+25%', '--fail-on', 'throughput:-5%'], {cwd: dir})
    expect(gate.code, gate.stdout + gate.stderr).to.equal(0)
  })

  it('flags the slow target regressed at p99, and --fail-on p99:+25% exits 4', async () => {
    const {report} = await compare(steadyRuns[0], slowRun)
    const p99 = report.metrics.find((m) => m.name === 'p99')!
    expect(p99.verdict, JSON.stringify(p99)).to.equal('regressed')
    expect(p99.contender! / p99.base!).to.be.above(1.3)
    expect(p99.pValue).to.be.below(0.05)
    expect(report.metrics.find((m) => m.name === 'p50')!.verdict).to.equal('regressed')
    // The rate is the schedule's: throughput did not change.
    expect(report.metrics.find((m) => m.name === 'throughput')!.verdict).to.not.equal('regressed')
    expect(report.differences.map((d) => d.field)).to.deep.equal(['target'])
    const gate = await runCli(['compare', steadyRuns[0], slowRun, '--fail-on', 'p99:+25%', '--json'], {cwd: dir})
    expect(gate.code, gate.stderr).to.equal(4)
    expect(JSON.parse(gate.stdout).regressions.map((r: {gate: string}) => r.gate)).to.deep.equal(['p99:+25%'])
  })

  it('calls the noisy target unstable, not regressed', async () => {
    const {report} = await compare(noisyRuns[0], noisyRuns[1])
    for (const name of ['p50', 'p90', 'p99']) {
      const m = report.metrics.find((metric) => metric.name === name)!
      expect(m.verdict, JSON.stringify(m)).to.equal('unstable')
      expect(m.spreadPercent).to.be.above(5)
    }

    expect(report.metrics.filter((m) => m.verdict === 'regressed' || m.verdict === 'improved')).to.deep.equal([])
  })

  it('compare @prev @last on runs recorded in the history', async () => {
    const cwd = path.join(dir, 'work')
    mkdirSync(cwd)
    const {outcomes, stderr} = await recordInChild(cwd, '', [{file: steadyRuns[0]}, {file: slowRun}])
    expect(outcomes.every((o) => o.recorded), stderr).to.equal(true)
    const result = await runCli(['compare', '@prev', '@last', '--fail-on', 'p99:+25%'], {cwd})
    expect(result.code, result.stderr).to.equal(4)
    expect(result.stdout).to.include(`${outcomes[0].id} (history; run`).and.include(`${outcomes[1].id} (history; run`)
    expect(result.stdout).to.match(/p99 \(ms\).*regressed/)
  })

  it('report --compare: throughput and p99 of both runs over time, with the table, in headless Chromium', async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing under CI=true (.ci/run installs it)`)
      this.skip()
    }

    const html = path.join(dir, 'compare.html')
    const written = await runCli(['report', '--compare', steadyRuns[0], slowRun, '-o', html], {cwd: dir})
    expect(written.code, written.stderr).to.equal(0)
    expect(written.stdout).to.include(html)
    const text = readFileSync(html, 'utf8')
    expect(text).to.not.match(/<script|<link |src="http|href="http|@import|url\(/i)
    let browser: Browser | undefined
    try {
      browser = await chromium.launch({args: FLAGS, executablePath: CHROMIUM, headless: true})
      const context = await browser.newContext({javaScriptEnabled: false, viewport: {height: 1000, width: 800}})
      await context.setOffline(true)
      const requests: string[] = []
      await context.route('**/*', (route) => {
        if (route.request().url().startsWith('file:')) return route.continue()
        requests.push(route.request().url())
        return route.abort()
      })
      const page = await context.newPage()
      const errors: string[] = []
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()))
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(pathToFileURL(html).href, {waitUntil: 'load'})
      const charts = await page.$$eval('figure.chart', (figures) =>
        figures.map((figure) => ({
          id: figure.getAttribute('data-chart'),
          series: [...figure.querySelectorAll('svg .series')].map((el) => {
            const box = (el as SVGGraphicsElement).getBBox()
            return {dashed: el.getAttribute('stroke-dasharray') !== null, name: el.getAttribute('data-series') ?? '', points: (el.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean).length, width: box.width}
          }),
        })),
      )
      expect(charts.map((c) => c.id)).to.deep.equal(['compare-throughput', 'compare-p99'])
      for (const chart of charts) {
        expect(chart.series.map((s) => s.name.split(':')[0])).to.deep.equal(['base', 'contender'])
        for (const series of chart.series) {
          expect(series.points, `${chart.id}/${series.name}`).to.be.at.least(6)
          expect(series.width, `${chart.id}/${series.name} spans the time axis`).to.be.greaterThan(300)
        }

        expect(chart.series.map((s) => s.dashed)).to.deep.equal([false, true])
      }

      const rows = await page.$$eval('#comparison tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-metric'), tr.getAttribute('data-verdict'), tr.querySelector('td:last-child')?.textContent]))
      expect(rows.map((r) => r[0])).to.deep.equal(['throughput', 'p50', 'p90', 'p99', 'p99.9', 'error_rate'])
      expect(rows.find((r) => r[0] === 'p99')!.slice(1)).to.deep.equal(['regressed', 'regressed'])
      const layout = await page.evaluate(() => ({differences: document.querySelector('[data-differences]')?.textContent ?? '', scrollWidth: document.documentElement.scrollWidth}))
      expect(layout.differences).to.include('target')
      expect(layout.scrollWidth).to.be.at.most(800)
      await page.screenshot({fullPage: true, path: path.join(dir, 'compare-800.png')})
      await page.setViewportSize({height: 900, width: 420})
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(420)
      await page.screenshot({fullPage: true, path: path.join(dir, 'compare-420.png')})
      expect(errors).to.deep.equal([])
      expect(requests).to.deep.equal([])
      await context.close()
    } finally {
      await browser?.close()
    }
  })
})
