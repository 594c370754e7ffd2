/**
 * The capacity report in a real browser: Debian's Chromium, headless, driven
 * by playwright-core, with every network request refused. A search against a
 * FIFO target of known capacity writes the report; the page must draw the
 * throughput–latency curve with the maximum marked, achieved against offered,
 * and each trial over time, log no console error, and read at 800 px wide.
 */
import {expect} from 'chai'
import {existsSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {type Browser, chromium} from 'playwright-core'

import type {CapacityResult} from '../../src/lib/capacity/result.js'

import {runCli, tempDir} from '../helpers.js'
import {startFifoTarget} from '../fixtures/targets/fifo.js'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

describe('e2e: the capacity report in headless Chromium', function () {
  this.timeout(180_000)
  let dir: string
  let browser: Browser | undefined
  let reportFile: string
  let result: CapacityResult

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing under CI=true (.ci/run installs it)`)
      this.skip()
    }

    dir = tempDir('logbench-capacity-report-')
    reportFile = path.join(dir, 'capacity.html')
    const fifo = await startFifoTarget(20_000)
    try {
      // A coarse search (50%): a few trials on both sides of the capacity.
      const run = await runCli(
        ['capacity', '--target', fifo.url, '--no-verify', '--workers', '1', '--start', '10000', '--precision', '50%', '--trial', '2s', '--trial-warmup', '0.5s', '--interval', '250ms', '--batch-size', '500', '--report', reportFile, '--json'],
        {timeoutMs: 170_000},
      )
      expect([0, 4], run.stderr).to.include(run.code)
      result = JSON.parse(run.stdout)
    } finally {
      await fifo.stop()
    }

    browser = await chromium.launch({args: FLAGS, executablePath: CHROMIUM, headless: true})
  })

  after(async () => {
    await browser?.close()
    if (dir && !process.env.LOGBENCH_KEEP_REPORT) rmSync(dir, {force: true, recursive: true})
  })

  it('draws the curve with the maximum marked and every trial over time, offline, without console errors, readable at 800 px and in print', async () => {
    expect(result.trials.length).to.be.at.least(3)
    expect(result.trials.some((t) => t.verdict === 'fail')).to.equal(true)
    const html = readFileSync(reportFile, 'utf8')
    expect(html).not.to.match(/<script|<link |src="http|href="http|@import|url\(/i)

    const context = await browser!.newContext({javaScriptEnabled: false, viewport: {height: 1000, width: 800}})
    await context.setOffline(true)
    const requests: string[] = []
    await context.route('**/*', (route) => {
      const url = route.request().url()
      if (url.startsWith('file:')) return route.continue()
      requests.push(url)
      return route.abort()
    })
    const page = await context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => consoleErrors.push(error.message))
    await page.goto(pathToFileURL(reportFile).href, {waitUntil: 'load'})

    const charts = await page.$$eval('figure.chart', (figures) =>
      figures.map((figure) => ({
        dots: figure.querySelectorAll('svg circle.dot').length,
        id: figure.getAttribute('data-chart'),
        legend: [...figure.querySelectorAll('.legend li')].map((li) => li.getAttribute('data-series')),
        markers: [...figure.querySelectorAll('svg [data-marker]')].map((el) => ({name: el.getAttribute('data-marker'), x: Number(el.getAttribute('x1'))})),
        series: [...figure.querySelectorAll('svg .series')].map((el) => {
          const box = (el as SVGGraphicsElement).getBBox()
          return {d: el.getAttribute('d') ?? 'circle', height: box.height, name: el.getAttribute('data-series'), width: box.width}
        }),
        svgWidth: figure.querySelector('svg')?.getBoundingClientRect().width ?? 0,
        visible: (figure as HTMLElement).offsetParent !== null,
      })),
    )
    const byId = Object.fromEntries(charts.map((chart) => [chart.id, chart]))
    const curve = byId['capacity-latency']
    expect(curve.series.map((s) => s.name)).to.deep.equal(['p50', 'p99'])
    // One dot per judged trial on each line, and the maximum marked as a vertical line.
    expect(curve.dots).to.equal(2 * result.trials.length)
    expect(curve.markers.map((m) => m.name)).to.deep.equal([result.outcome === 'found' ? 'max sustainable' : 'highest passing rate'])
    for (const series of curve.series) expect(series.width, series.name!).to.be.greaterThan(100)
    expect(byId['capacity-throughput'].series.map((s) => s.name)).to.deep.equal(['achieved', 'offered (ideal)'])
    // Every trial keeps its timeline: a throughput and a latency chart each, marked at the end of the warm-up.
    for (const trial of result.trials) {
      for (const kind of ['throughput', 'latency']) {
        const chart = byId[`trial-${trial.index}-${kind}`]
        expect(chart, `trial ${trial.index} ${kind}`).to.not.equal(undefined)
        expect(chart.markers.map((m) => m.name)).to.deep.equal(['end of warm-up'])
        expect(chart.series.every((s) => s.d !== '')).to.equal(true)
      }
    }

    for (const chart of charts.filter((c) => c.visible)) expect(chart.svgWidth, `${chart.id} fits the window`).to.be.within(400, 800)
    const layout = await page.evaluate(() => ({
      headline: document.querySelector('.verdict p')?.textContent ?? '',
      rows: document.querySelectorAll('section table tbody tr').length,
      scrollWidth: document.documentElement.scrollWidth,
    }))
    expect(layout.headline).to.equal(result.headline)
    expect(layout.rows).to.equal(result.trials.length)
    expect(layout.scrollWidth, 'no horizontal scrolling at 800 px').to.be.at.most(800)
    await page.screenshot({fullPage: true, path: path.join(dir, 'capacity-800.png')})
    await page.setViewportSize({height: 900, width: 420})
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(420)
    await page.screenshot({fullPage: true, path: path.join(dir, 'capacity-420.png')})
    await page.emulateMedia({media: 'print'})
    await page.setViewportSize({height: 1100, width: 800})
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(800)
    await page.screenshot({fullPage: true, path: path.join(dir, 'capacity-print.png')})
    expect(consoleErrors).to.deep.equal([])
    expect(requests).to.deep.equal([])
    await context.close()
  })
})
