import {expect} from 'chai'

import {capabilitiesFor, parseVersion} from '../../../src/lib/store/index.js'

describe('capabilities', () => {
  it('parses version strings', () => {
    expect(parseVersion('18.16.1')).to.include({major: 18, minor: 16, patch: 1})
    expect(parseVersion('26.7.2.1')).to.include({major: 26, minor: 7, patch: 2})
    expect(() => parseVersion('banana')).to.throw(/cannot parse/)
  })

  it('gives 18.16 none of the newer features', () => {
    const caps = capabilitiesFor(parseVersion('18.16.1'))
    expect(Object.values(caps).every((on) => on === false)).to.equal(true)
  })

  it('gives a current release every feature', () => {
    const caps = capabilitiesFor(parseVersion('25.8.1.1'))
    expect(Object.values(caps).every(Boolean)).to.equal(true)
  })

  it('switches each feature on at its release', () => {
    expect(capabilitiesFor(parseVersion('19.10.1')).queryParameters).to.equal(false)
    expect(capabilitiesFor(parseVersion('19.11.1')).queryParameters).to.equal(true)
    expect(capabilitiesFor(parseVersion('20.4.2')).dateTime64).to.equal(false)
    expect(capabilitiesFor(parseVersion('20.5.1')).dateTime64).to.equal(true)
    expect(capabilitiesFor(parseVersion('23.2.1')).lightweightDelete).to.equal(false)
    expect(capabilitiesFor(parseVersion('23.3.1')).lightweightDelete).to.equal(true)
  })
})
