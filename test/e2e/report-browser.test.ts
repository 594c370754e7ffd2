/**
 * The HTML report in a real browser: Debian's Chromium, headless, driven by
 * playwright-core, with every network request refused. A zero set-up parallel
 * run writes the report; the page must draw every chart with its series, log
 * no console error, and read at 800 px wide, on screen and in print.
 */
import {expect} from 'chai'
import {existsSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {type Browser, chromium} from 'playwright-core'

import {runCli, tempDir} from '../helpers.js'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

describe('e2e: the HTML report in headless Chromium', function () {
  this.timeout(180_000)
  let dir: string
  let browser: Browser | undefined
  let reportFile: string
  let result: {kind: string; workers: unknown[]; logs: {acked: number}}

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing under CI=true (.ci/run installs it)`)
      this.skip()
    }

    dir = tempDir('logbench-report-')
    reportFile = path.join(dir, 'report.html')
    const run = await runCli(['parallel', '--workers', '2', '--duration', '4s', '--concurrency', '2', '--batch-size', '500', '--data-dir', path.join(dir, 'data'), '--report', reportFile, '--json'])
    expect(run.code, run.stderr).to.equal(0)
    result = JSON.parse(run.stdout)
    browser = await chromium.launch({args: FLAGS, executablePath: CHROMIUM, headless: true})
  })

  after(async () => {
    await browser?.close()
    if (dir && !process.env.LOGBENCH_KEEP_REPORT) rmSync(dir, {force: true, recursive: true})
  })

  it('renders every chart with its series, offline, without console errors, readable at 800 px and in print', async () => {
    expect(result.kind).to.equal('parallel')
    expect(result.logs.acked).to.be.greaterThan(0)
    const html = readFileSync(reportFile, 'utf8')
    // Self-contained: nothing to fetch.
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
    page.on('requestfailed', (request) => consoleErrors.push(`request failed: ${request.url()}`))
    await page.goto(pathToFileURL(reportFile).href, {waitUntil: 'load'})

    const charts = await page.$$eval('figure.chart', (figures) =>
      figures.map((figure) => ({
        id: figure.getAttribute('data-chart'),
        legend: [...figure.querySelectorAll('.legend li')].map((li) => li.getAttribute('data-series')),
        series: [...figure.querySelectorAll('svg .series')].map((el) => {
          const box = (el as SVGGraphicsElement).getBBox()
          return {d: el.getAttribute('d') ?? 'circle', height: box.height, name: el.getAttribute('data-series'), width: box.width}
        }),
        svgWidth: figure.querySelector('svg')?.getBoundingClientRect().width ?? 0,
      })),
    )
    const byId = Object.fromEntries(charts.map((chart) => [chart.id, chart]))
    const expected: Record<string, string[]> = {
      'clickhouse-memory': ['memory tracked'],
      'clickhouse-parts': ['active parts (max per partition)', 'merges running'],
      cpu: ['worker 1', 'worker 2', 'serve'],
      errors: ['failed batches'],
      latency: ['p50', 'p90', 'p99', 'max'],
      rss: ['worker 1', 'worker 2', 'serve'],
      throughput: ['sent', 'acked', 'stored'],
      workers: ['worker 1', 'worker 2'],
    }
    for (const [id, names] of Object.entries(expected)) {
      const chart = byId[id]
      expect(chart, `chart ${id}`).to.not.equal(undefined)
      expect(chart.series.map((s) => s.name), `series of ${id}`).to.include.members(names)
      expect(chart.legend, `legend of ${id}`).to.include.members(names)
      for (const series of chart.series) {
        expect(series.d, `${id}/${series.name} has a path`).to.not.equal('')
        // A drawn line spans the time axis (a flat line has no height, never no width).
        expect(series.width + series.height, `${id}/${series.name} is drawn`).to.be.greaterThan(0)
      }

      expect(chart.svgWidth, `${id} fits the window`).to.be.within(400, 800)
    }

    // The acked line carries the run's acknowledgements: its path has one point an interval.
    expect(byId.throughput.series.find((s) => s.name === 'acked')!.d.split(/[ML]/).filter(Boolean).length).to.be.greaterThan(2)

    const layout = await page.evaluate(() => ({
      bodyFont: Number.parseFloat(getComputedStyle(document.body).fontSize),
      scrollWidth: document.documentElement.scrollWidth,
      verdict: document.querySelector('.verdict p')?.textContent ?? '',
    }))
    expect(layout.scrollWidth, 'no horizontal scrolling at 800 px').to.be.at.most(800)
    expect(layout.bodyFont).to.be.at.least(13)
    expect(layout.verdict.length).to.be.greaterThan(20)
    const shot = path.join(dir, 'report-800.png')
    await page.screenshot({fullPage: true, path: shot})
    expect(readFileSync(shot).subarray(1, 4).toString()).to.equal('PNG')

    // A narrow window and print keep it readable.
    await page.setViewportSize({height: 900, width: 420})
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(420)
    await page.screenshot({fullPage: true, path: path.join(dir, 'report-420.png')})
    await page.emulateMedia({media: 'print'})
    await page.setViewportSize({height: 1100, width: 800})
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(800)
    await page.screenshot({fullPage: true, path: path.join(dir, 'report-print.png')})

    expect(consoleErrors).to.deep.equal([])
    expect(requests).to.deep.equal([])
    await context.close()
  })
})
