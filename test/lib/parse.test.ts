import {expect} from 'chai'

import {parseBytes, parseDuration} from '../../src/lib/parse.js'

describe('command-line units', () => {
  it('reads sizes in decimal and binary units', () => {
    expect(parseBytes('65536', '--x')).to.equal(65_536)
    expect(parseBytes('64KiB', '--x')).to.equal(65_536)
    expect(parseBytes('10MB', '--x')).to.equal(10_000_000)
    expect(parseBytes('1.5 MiB', '--x')).to.equal(1_572_864)
    expect(() => parseBytes('lots', '--max-body')).to.throw(/--max-body "lots" is not a size/)
  })

  it('reads durations, with the unit of a bare number and zero as options', () => {
    expect(parseDuration('200', '--x', {bareUnit: 'ms'})).to.equal(200)
    expect(parseDuration('200', '--x')).to.equal(200_000)
    expect(parseDuration('2min', '--x')).to.equal(120_000)
    expect(parseDuration('0ms', '--batch-wait', {allowZero: true})).to.equal(0)
    expect(() => parseDuration('0ms', '--bucket')).to.throw(/longer than zero/)
    try {
      parseDuration('soon', '--duration')
      expect.fail('should throw')
    } catch (error) {
      expect((error as {exitCode?: number}).exitCode).to.equal(2)
      expect((error as Error).message).to.equal('--duration "soon" is not a duration')
    }
  })
})
