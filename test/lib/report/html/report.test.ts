import {expect} from 'chai'

import {buildAggregate, workerReport} from '../../../../src/lib/load/result/aggregate.js'
import {bottleneckOf} from '../../../../src/lib/load/result/diagnose.js'
import {parseResultDocument} from '../../../../src/lib/load/result/read.js'
import {renderHtmlReport} from '../../../../src/lib/report/html/report.js'
import {lineChart, niceCeiling} from '../../../../src/lib/report/html/svg-chart.js'
import {workerResult} from '../../load/results.js'

describe('report/html', () => {
  it('draws one path a series, a legend entry for each, and escapes every name', () => {
    const svg = lineChart({id: 'x', series: [{name: 'a<b>', points: [[0, 1], [1, 2], [2, null], [3, 4]]}, {name: 'c', points: [[0, 0], [3, 0]]}], title: 'T & U', unit: 'logs/s'})
    expect(svg).to.include('data-series="a&lt;b&gt;"').and.include('T &amp; U (logs/s)')
    // The gap (null) lifts the pen.
    const d = /data-series="a&lt;b&gt;" d="([^"]+)"/.exec(svg)![1]
    expect(d.match(/M/g)).to.have.length(2)
    expect(svg.match(/<li data-series/g)).to.have.length(2)
    expect(lineChart({id: 'e', series: [], title: 'E', unit: ''})).to.include('No data')
    expect([0.3, 7, 12, 99, 101, 4100].map((v) => niceCeiling(v))).to.deep.equal([0.5, 10, 20, 100, 200, 5000])
  })

  it('renders an aggregate deterministically, self-contained, with the charts, the workers and the verdict', async () => {
    const workers = await Promise.all([0, 1].map((index) => workerResult({count: 2, index, latencyMs: 40, logs: 3000})))
    const aggregate = buildAggregate('parallel', 'run-agg', workers.map((r, i) => workerReport(i, r, {status: 'ok'})), {interrupted: false})
    aggregate.bottleneck = bottleneckOf(aggregate)
    const html = renderHtmlReport(aggregate)
    expect(renderHtmlReport(JSON.parse(JSON.stringify(aggregate)))).to.equal(html)
    expect(html).not.to.match(/<script|<link |src="|href="|url\(|@import/)
    for (const id of ['throughput', 'latency', 'errors', 'workers', 'cpu', 'rss']) expect(html).to.include(`data-chart="${id}"`)
    expect(html).to.include('data-chart="clickhouse"').and.include('Not sampled')
    expect(html).to.include('data-series="worker 1"').and.include('data-series="worker 2"')
    expect(html).to.include(`data-verdict="${aggregate.bottleneck.kind}"`)
    expect(parseResultDocument('x.json', JSON.stringify(aggregate)).kind).to.equal('parallel')
  })

  it('puts every chart of a run on the run\'s own clock: the same time axis from its start', async () => {
    const result = await workerResult({count: 1, index: 0, latencyMs: 40, logs: 3000})
    // ClickHouse sampled from before the first interval of the worker's timeline to after its last.
    const first = result.timeline!.intervals[0].at
    result.clickhouse = {
      errors: [],
      intervalMs: 1000,
      limits: {partsToDelayInsert: 300, partsToThrowInsert: 600, source: 'table'},
      samples: [0, 1, 2, 3].map((i) => ({activeParts: 1, at: first - 2000 + i * 1000, delayedInserts: 0, insertedRows: 10, maxPartsPerPartition: 1, memoryBytes: 1e6, merges: 0, queryCpuMs: 1, rejectedInserts: 0})),
      stored: null,
      table: 'db.logs',
      warnings: [],
    }
    const html = renderHtmlReport(result)
    const ticks = [...html.matchAll(/<figure class="chart"[^>]*data-chart="([^"]+)"[^]*?<\/figure>/g)].map((m) => ({id: m[1], labels: [...m[0].matchAll(/class="xlabel"[^>]*>([^<]+)</g)].map((l) => l[1]).join(',')}))
    const drawn = ticks.filter((t) => t.labels)
    expect(drawn.map((t) => t.id)).to.include.members(['throughput', 'latency', 'cpu'])
    expect(drawn.some((t) => t.id.startsWith('clickhouse') || t.id === 'parts' || t.id === 'inserted')).to.equal(true)
    expect(new Set(drawn.map((t) => t.labels)).size, JSON.stringify(drawn)).to.equal(1)
    expect(drawn[0].labels.startsWith('0 s')).to.equal(true)
  })
})
