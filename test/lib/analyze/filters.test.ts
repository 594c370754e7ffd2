import {expect} from 'chai'

import {
  describeFilters,
  type Filters,
  MAX_FILTER_VALUES,
  parseDuration,
  parseFilters,
  parseReportNames,
  parseReportOptions,
  parseTime,
  REPORT_NAMES,
  whereClause,
} from '../../../src/lib/analyze/index.js'
import {bindParams, buildProfile, ProfileSql} from '../../../src/lib/store/index.js'
import {expectUsageError as usage} from '../../helpers.js'

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0)
/** logbench's own table as 18.16 and as current ClickHouse create it, through the profile. */
const logbenchTable = (time: string) =>
  buildProfile({
    columns: [
      {name: 'timestamp', type: time},
      {name: 'created_at', type: time},
      {name: 'app_id', type: 'LowCardinality(String)'},
      {name: 'level', type: "Enum8('debug' = 1, 'info' = 2, 'warn' = 3, 'error' = 4, 'fatal' = 5)"},
      {name: 'message', type: 'String'},
      {name: 'source', type: 'String'},
      {name: 'metadata', type: 'String'},
      {name: 'run_id', type: 'String'},
      {name: 'seq', type: 'UInt64'},
    ],
    database: 'db',
    engine: 'MergeTree',
    table: 'logs',
  })
const old = new ProfileSql(logbenchTable("DateTime('UTC')"), {dateTime64: false, jsonExtract: false})
const current = new ProfileSql(logbenchTable("DateTime64(3, 'UTC')"), {dateTime64: true, jsonExtract: true})

describe('analyze: durations and times from the command line', () => {
  it('parses durations with units, a bare number as seconds', () => {
    expect(parseDuration('500ms', '--x')).to.equal(500)
    expect(parseDuration('2s', '--x')).to.equal(2000)
    expect(parseDuration('1.5m', '--x')).to.equal(90_000)
    expect(parseDuration('1h', '--x')).to.equal(3_600_000)
    expect(parseDuration('7d', '--x')).to.equal(604_800_000)
    expect(parseDuration('3', '--watch')).to.equal(3000)
    usage(() => parseDuration('fast', '--watch'), /--watch "fast" is not a duration/)
    usage(() => parseDuration('0s', '--bucket'), /longer than zero/)
    usage(() => parseDuration('-1s', '--bucket'), /not a duration/)
  })

  it('parses times: ago, ISO-8601 (no zone is UTC), epoch seconds and ms, now', () => {
    expect(parseTime('30m', '--since', NOW)).to.equal(NOW - 1_800_000)
    expect(parseTime('2024-05-01T10:00:00Z', '--since', NOW)).to.equal(Date.UTC(2024, 4, 1, 10))
    expect(parseTime('2024-05-01 10:00', '--since', NOW)).to.equal(Date.UTC(2024, 4, 1, 10))
    expect(parseTime('2024-05-01T10:00:00.250+02:00', '--since', NOW)).to.equal(Date.UTC(2024, 4, 1, 8, 0, 0, 250))
    expect(parseTime('2024-05-01', '--since', NOW)).to.equal(Date.UTC(2024, 4, 1))
    expect(parseTime('1714564800', '--since', NOW)).to.equal(1_714_564_800_000)
    expect(parseTime('1714564800123', '--since', NOW)).to.equal(1_714_564_800_123)
    expect(parseTime('now', '--before', NOW)).to.equal(NOW)
    usage(() => parseTime('yesterday', '--since', NOW), /--since "yesterday" is not a time/)
    usage(() => parseTime("2024-05-01' OR 1=1", '--since', NOW), /not a time/)
  })
})

describe('analyze: filters', () => {
  it('keeps values verbatim, drops duplicates, checks levels and list sizes', () => {
    const filters = parseFilters({apps: ["x' OR 1=1 --", "x' OR 1=1 --", 'b'], levels: ['error'], runIds: ['r1'], since: '1h'}, NOW)
    expect(filters).to.deep.equal({apps: ["x' OR 1=1 --", 'b'], levels: ['error'], runIds: ['r1'], since: NOW - 3_600_000})
    usage(() => parseFilters({levels: ['critical']}), /--level "critical" is not a log level/)
    usage(() => parseFilters({apps: ['']}), /--app needs a value/)
    usage(() => parseFilters({apps: Array.from({length: MAX_FILTER_VALUES + 1}, (_, i) => `a${i}`)}), /at most 100/)
    usage(() => parseFilters({before: '2h', since: '1h'}, NOW), /--since must be earlier than --before/)
  })

  it('builds a condition of placeholders only: no value ever appears in the SQL text', () => {
    const filters: Filters = {apps: ["x' OR 1=1 --", 'b'], before: NOW, levels: ['warn'], runIds: ['r'], since: NOW - 1500}
    for (const caps of [old, current]) {
      const where = whereClause(filters, caps)
      expect(where.sql).to.equal(`WHERE ${where.condition}`)
      expect(where.sql).not.to.include('OR 1=1')
      expect(where.sql).to.include('`app_id` IN ({f_app0:String}, {f_app1:String})')
      expect(where.sql).to.include('`level` IN ({f_level0:String})')
      expect(where.sql).to.include('`run_id` IN ({f_run0:String})')
      expect(where.params).to.include({f_app0: "x' OR 1=1 --", f_app1: 'b', f_level0: 'warn', f_run0: 'r'})
    }

    expect(whereClause({apps: [], levels: [], runIds: []}, old)).to.deep.equal({condition: '1', params: {}, sql: ''})
  })

  it('binds times at the precision of the column: milliseconds with DateTime64, whole seconds with DateTime', () => {
    const filters: Filters = {apps: [], before: NOW + 999, levels: [], runIds: [], since: NOW + 250}
    const modern = whereClause(filters, current)
    expect(modern.sql).to.equal('WHERE `created_at` >= {f_since:DateTime64(3)} AND `created_at` < {f_before:DateTime64(3)}')
    expect(modern.params).to.deep.equal({f_before: `${NOW / 1000}.999`, f_since: `${NOW / 1000}.250`})
    const legacy = whereClause(filters, old)
    expect(legacy.sql).to.equal('WHERE `created_at` >= {f_since:DateTime} AND `created_at` < {f_before:DateTime}')
    // `< before` only takes seconds that ended before it: 12:00:00.999 -> created_at < 12:00:00.
    expect(legacy.params).to.deep.equal({f_before: NOW / 1000, f_since: NOW / 1000})
  })

  it('is escaped into literals by bindParams on a server without query parameters', () => {
    const where = whereClause({apps: ["x' OR 1=1 --"], levels: [], runIds: ['a\\b'], since: NOW}, old)
    const sql = bindParams(`SELECT count() FROM t ${where.sql}`, where.params)
    expect(sql).to.equal(`SELECT count() FROM t WHERE \`app_id\` IN ('x\\' OR 1=1 --') AND \`run_id\` IN ('a\\\\b') AND \`created_at\` >= toDateTime(${NOW / 1000})`)
  })

  it('describes the filters for people, with data text made safe', () => {
    expect(describeFilters({apps: [], levels: [], runIds: []})).to.equal('all rows')
    expect(describeFilters({apps: ['a\u001B[31m'], levels: ['error'], runIds: [], since: NOW})).to.equal(
      'app ∈ {a\\x1b[31m} · level ∈ {error} · time ≥ 2024-05-01T12:00:00.000Z',
    )
  })
})

describe('analyze: report names and options', () => {
  it('runs every report when none is named, keeps the order given otherwise', () => {
    expect(parseReportNames([])).to.deep.equal([...REPORT_NAMES])
    expect(parseReportNames(['rates', 'total', 'rates'])).to.deep.equal(['rates', 'total'])
    usage(() => parseReportNames(['totals']), /"totals" is not a report/)
  })

  it('checks --limit and --bucket', () => {
    expect(parseReportOptions({}).limit).to.equal(20)
    expect(parseReportOptions({bucket: '10s', limit: '5'})).to.include({bucketMs: 10_000, limit: 5})
    usage(() => parseReportOptions({limit: '0'}), /--limit "0"/)
    usage(() => parseReportOptions({limit: '5; DROP'}), /--limit/)
    usage(() => parseReportOptions({bucket: 'soon'}), /--bucket "soon"/)
  })

  it('refuses calendar days that do not exist instead of rolling them over', () => {
    for (const text of ['2026-11-31', '2024-02-30T00:00:00Z', '2026-13-01']) usage(() => parseTime(text, '--before'), /is not a time/)
    expect(parseTime('2024-02-29', '--since')).to.equal(Date.UTC(2024, 1, 29))
  })
})
