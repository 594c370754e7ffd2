import {expect} from 'chai'

import {boundViewSamples, type ClickHouseSample} from '../../../../src/lib/load/measure/clickhouse-view.js'
import {boundSamples} from '../../../../src/lib/load/measure/resources.js'

const T0 = Date.parse('2025-01-01T00:00:00Z')

describe('load/measure: bounded samples on long runs', () => {
  it('ClickHouse samples double their interval past the cap: counts add up, gauges keep their peak', () => {
    const samples: ClickHouseSample[] = Array.from({length: 2000}, (_, i) => ({
      activeParts: i % 7,
      at: T0 + i * 1000,
      delayedInserts: i % 3,
      insertedRows: 100 + i,
      maxPartsPerPartition: i % 11,
      memoryBytes: 1000 + (i % 13),
      merges: i % 2,
      queryCpuMs: 1.5,
      rejectedInserts: 0,
    }))
    const kept = boundViewSamples(samples, 1000, 600)
    expect(kept.samples.length).to.be.at.most(600)
    expect(kept.intervalMs).to.equal(4000)
    const sum = (list: ClickHouseSample[], key: 'insertedRows' | 'delayedInserts') => list.reduce((total, s) => total + s[key], 0)
    expect(sum(kept.samples, 'insertedRows')).to.equal(sum(samples, 'insertedRows'))
    expect(sum(kept.samples, 'delayedInserts')).to.equal(sum(samples, 'delayedInserts'))
    expect(Math.max(...kept.samples.map((s) => s.maxPartsPerPartition))).to.equal(10)
    expect(boundViewSamples(samples.slice(0, 10), 1000).samples).to.have.length(10)
  })

  it("serve's samples do the same: CPU adds up, RSS keeps the larger", () => {
    const samples = Array.from({length: 1300}, (_, i) => ({at: T0 + i * 500, cpuMs: 10, rssBytes: 1e6 + i}))
    const kept = boundSamples({intervalMs: 500, samples}, 600)
    expect(kept.intervalMs).to.equal(2000)
    expect(kept.samples.reduce((total, s) => total + s.cpuMs, 0)).to.equal(13_000)
    expect(kept.samples.at(-1)!.rssBytes).to.equal(1e6 + 1299)
  })
})
