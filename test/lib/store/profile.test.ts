import {expect} from 'chai'

import {bindParams, buildProfile, type ColumnInfo, parseColumnFlags, ProfileSql, summarizeProfile} from '../../../src/lib/store/index.js'
import {expectUsageError as usage} from '../../helpers.js'

const table = (columns: ColumnInfo[]) => ({columns, database: 'db', engine: 'MergeTree', table: 't'})
const OLD = {dateTime64: false, jsonExtract: false}
const NEW = {dateTime64: true, jsonExtract: true}

const GUIDE: ColumnInfo[] = [
  {name: 'app_id', type: 'String'},
  {name: 'level', type: 'String'},
  {name: 'message', type: 'String'},
  {name: 'source', type: 'String'},
  {name: 'metadata', type: 'String'},
  {name: 'created_at', type: 'DateTime'},
]

/** The OpenTelemetry ClickHouse exporter's otel_logs columns. */
export const OTEL_LOGS: ColumnInfo[] = [
  {name: 'Timestamp', type: 'DateTime64(9)'},
  {name: 'TimestampTime', type: 'DateTime'},
  {name: 'TraceId', type: 'String'},
  {name: 'SpanId', type: 'String'},
  {name: 'TraceFlags', type: 'UInt8'},
  {name: 'SeverityText', type: 'LowCardinality(String)'},
  {name: 'SeverityNumber', type: 'UInt8'},
  {name: 'ServiceName', type: 'LowCardinality(String)'},
  {name: 'Body', type: 'String'},
  {name: 'ResourceSchemaUrl', type: 'LowCardinality(String)'},
  {name: 'ResourceAttributes', type: 'Map(LowCardinality(String), String)'},
  {name: 'ScopeSchemaUrl', type: 'LowCardinality(String)'},
  {name: 'ScopeName', type: 'String'},
  {name: 'ScopeVersion', type: 'LowCardinality(String)'},
  {name: 'ScopeAttributes', type: 'Map(LowCardinality(String), String)'},
  {name: 'LogAttributes', type: 'Map(LowCardinality(String), String)'},
]

describe('store/profile', () => {
  it("detects logbench's own schema", () => {
    const profile = buildProfile(
      table([
        {name: 'timestamp', type: "DateTime64(3, 'UTC')"},
        {name: 'created_at', type: "DateTime64(3, 'UTC')"},
        {name: 'app_id', type: 'LowCardinality(String)'},
        {name: 'level', type: "Enum8('debug' = 1, 'info' = 2)"},
        {name: 'message', type: 'String'},
        {name: 'source', type: 'LowCardinality(String)'},
        {name: 'metadata', type: 'String'},
        {name: 'run_id', type: 'LowCardinality(String)'},
        {name: 'seq', type: 'UInt64'},
        {name: 'batch_id', type: 'String'},
      ]),
    )
    expect(summarizeProfile(profile)).to.deep.include({
      roles: {app: 'app_id', event_time: 'timestamp', ingest_time: 'created_at', level: 'level', message: 'message', run_id: 'run_id', seq: 'seq', source: 'source'},
      shape: 'logbench',
    })
    const sql = new ProfileSql(profile, NEW)
    expect(sql.expr('seq')).to.equal('`seq`')
    expect(sql.timeMs('ingest_time', 'min')).to.equal('toUnixTimestamp64Milli(min(`created_at`))')
    expect(sql.resolutionMs('ingest_time')).to.equal(1)
  })

  it("detects the guide's shape: run id and seq inside the JSON metadata, read with the functions the server has", () => {
    const profile = buildProfile(table(GUIDE))
    expect(profile.shape).to.equal('guide')
    expect(summarizeProfile(profile).roles).to.deep.equal({
      app: 'app_id',
      event_time: null,
      ingest_time: 'created_at',
      level: 'level',
      message: 'message',
      run_id: 'metadata.run_id',
      seq: 'metadata.seq',
      source: 'source',
    })
    expect(new ProfileSql(profile, OLD).expr('run_id')).to.equal("visitParamExtractString(`metadata`, 'run_id')")
    expect(new ProfileSql(profile, OLD).expr('seq')).to.equal("visitParamExtractUInt(`metadata`, 'seq')")
    expect(new ProfileSql(profile, NEW).expr('run_id')).to.equal("JSONExtractString(`metadata`, 'run_id')")
    expect(new ProfileSql(profile, OLD).expr('level')).to.equal('lower(`level`)')
    expect(new ProfileSql(profile, OLD).timeMs('ingest_time')).to.equal('toUInt64(toUnixTimestamp(`created_at`)) * 1000')
    expect(new ProfileSql(profile, OLD).resolutionMs('ingest_time')).to.equal(1000)
  })

  it("detects the OpenTelemetry exporter's otel_logs, with the run id and seq in LogAttributes", () => {
    const profile = buildProfile(table(OTEL_LOGS))
    expect(profile.shape).to.equal('otel')
    expect(summarizeProfile(profile).roles).to.deep.include({
      app: 'ServiceName',
      event_time: 'Timestamp',
      level: 'SeverityText',
      message: 'Body',
      run_id: 'LogAttributes.logbench.run_id',
      seq: 'LogAttributes.logbench.seq',
      source: 'ScopeName',
    })
    const sql = new ProfileSql(profile, NEW)
    expect(sql.expr('run_id')).to.equal("`LogAttributes`['logbench.run_id']")
    expect(sql.expr('seq')).to.equal("toUInt64OrZero(toString(`LogAttributes`['logbench.seq']))")
    expect(sql.expr('app')).to.equal('`ServiceName`')
    expect(sql.resolutionMs('event_time')).to.equal(1)
  })

  it('takes --column overrides: a column, a JSON key or a Map key, checked against the table', () => {
    const overrides = parseColumnFlags(['run_id=metadata.test.run', 'app=source', 'seq=metadata.n'])
    expect(overrides).to.deep.equal({app: {column: 'source'}, run_id: {column: 'metadata', key: 'test.run'}, seq: {column: 'metadata', key: 'n'}})
    const profile = buildProfile(table(GUIDE), overrides)
    expect(profile.fromFlags).to.deep.equal(['app', 'run_id', 'seq'])
    expect(new ProfileSql(profile, OLD).expr('run_id')).to.equal("visitParamExtractString(`metadata`, 'test.run')")
    const otel = buildProfile(table(OTEL_LOGS), parseColumnFlags(['run_id=ResourceAttributes.run', 'ingest_time=TimestampTime']))
    expect(new ProfileSql(otel, NEW).expr('run_id')).to.equal("`ResourceAttributes`['run']")
    expect(new ProfileSql(otel, NEW).resolutionMs('ingest_time')).to.equal(1000)
  })

  it('refuses a flag that names no role, a key with quotes, a missing column or a column of the wrong type', () => {
    usage(() => parseColumnFlags(['runid=metadata.run_id']), /--column "runid=metadata.run_id" names no role \("runid"\)/)
    usage(() => parseColumnFlags(['run_id']), /needs a column/)
    usage(() => parseColumnFlags(["run_id=metadata.run'id"]), /the key "run'id" is not allowed/)
    usage(() => parseColumnFlags(["run_id=metadata.x') OR 1=1 --"]), /is not allowed/)
    usage(() => parseColumnFlags(['run_id=meta-data']), /"meta-data" is not a column name/)
    usage(() => parseColumnFlags(['app=a', 'app=b']), /given twice/)
    usage(() => buildProfile(table(GUIDE), parseColumnFlags(['app=nope'])), /has no column "nope"/)
    try {
      buildProfile(table(GUIDE), parseColumnFlags(['app=Message']))
      expect.fail('should have thrown')
    } catch (error) {
      expect((error as {suggestion?: string}).suggestion).to.equal('did you mean "message"?')
    }

    usage(() => buildProfile(table(GUIDE), parseColumnFlags(['event_time=message'])), /needs a DateTime or DateTime64 column/)
    usage(() => buildProfile(table(GUIDE), parseColumnFlags(['event_time=metadata.ts'])), /a time is read from a DateTime column/)
    usage(() => buildProfile(table(GUIDE), parseColumnFlags(['run_id=created_at.x'])), /a key can be read only from a JSON text \(String\) or Map column/)
  })

  it('leaves keys as escaped literals even on a server without query parameters', () => {
    const profile = new ProfileSql(buildProfile(table(GUIDE), parseColumnFlags(['run_id=metadata.a/b:c@d'])), OLD)
    const sql = bindParams(`SELECT count() FROM t WHERE ${profile.expr('run_id')} = {r:String}`, {r: "x' OR 1=1"})
    expect(sql).to.equal("SELECT count() FROM t WHERE visitParamExtractString(`metadata`, 'a/b:c@d') = 'x\\' OR 1=1'")
  })

  it('names the flag that supplies a role the table lacks', () => {
    const profile = new ProfileSql(buildProfile(table([{name: 'line', type: 'String'}])), OLD)
    expect(profile.has('run_id')).to.equal(false)
    usage(() => profile.expr('run_id'), /has no run_id .*pass --column run_id=COLUMN/)
  })
})
