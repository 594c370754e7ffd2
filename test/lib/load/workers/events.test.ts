import {expect} from 'chai'

import {encodeEvent, EventLineReader, parseEvent, PROTOCOL_VERSION} from '../../../../src/lib/load/workers/events.js'

const progress = {
  batches: {acked: 1, failed: 0, sent: 2},
  elapsedMs: 1000,
  inFlight: 1,
  logs: {acked: 1000, failed: 0, sent: 2000},
  logsPerSecond: 1000,
  p50Ms: 1,
  p99Ms: 2,
  plannedLogs: 10_000,
  retries: 0,
  worker: 3,
}

describe('load/protocol', () => {
  it('encodes one JSON object a line with its type and version, and parses it back', () => {
    const line = encodeEvent('progress', progress)
    expect(line.endsWith('\n')).to.equal(true)
    expect(line.trim().includes('\n')).to.equal(false)
    const event = parseEvent(line)
    expect(event).to.deep.equal({...progress, type: 'progress', v: PROTOCOL_VERSION})
  })

  it('ignores lines that are not events, and result events without a run result', () => {
    expect(parseEvent('')).to.equal(undefined)
    expect(parseEvent('(node:123) Warning: something')).to.equal(undefined)
    expect(parseEvent('{"broken": ')).to.equal(undefined)
    expect(parseEvent('{"type":"progress"}')).to.equal(undefined)
    expect(parseEvent('{"type":"result","v":1,"result":{}}')).to.equal(undefined)
    expect(parseEvent('{"type":"mystery","v":1}')).to.equal(undefined)
    expect(parseEvent('{"type":"error","v":1,"error":{"message":"boom","kind":"environment","exitCode":3}}')).to.deep.include({type: 'error'})
  })

  it('refuses events of a newer protocol with a clear message', () => {
    expect(() => parseEvent('{"type":"progress","v":99}')).to.throw(/protocol v99/)
  })

  it('reassembles events split across chunks', () => {
    const reader = new EventLineReader()
    const text = encodeEvent('ready', {worker: 0}) + 'noise\n' + encodeEvent('progress', progress)
    const events = []
    for (let i = 0; i < text.length; i += 7) events.push(...reader.push(text.slice(i, i + 7)))
    events.push(...reader.end())
    expect(events.map((e) => e.type)).to.deep.equal(['ready', 'progress'])
    const unterminated = new EventLineReader()
    expect(unterminated.push(encodeEvent('ready', {worker: 1}).trim())).to.deep.equal([])
    expect(unterminated.end()).to.have.length(1)
  })
})
