import {expect} from 'chai'

import {httpParamValue, parseServerUrl, redactUrl} from '../../../src/lib/store/server.js'

describe('server URLs and HTTP parameters', () => {
  it('never shows a password, whatever it contains', () => {
    expect(redactUrl('http://user:pa/ss@host:8123')).to.equal('http://user:***@host:8123')
    expect(redactUrl('http://user:p@ss@host:8123/x')).to.equal('http://user:***@host:8123/x')
    expect(redactUrl('http://user@host:8123')).to.equal('http://user@host:8123')
    expect(redactUrl('http://host:8123')).to.equal('http://host:8123')
    expect(parseServerUrl('http://alice:s3cr@t@127.0.0.1:8123/').display).to.equal('http://alice@127.0.0.1:8123')
  })

  it('writes query parameter values in the Escaped format the HTTP interface reads', () => {
    expect(httpParamValue('plain')).to.equal('plain')
    expect(httpParamValue('a\\b\tc\nd\re')).to.equal('a\\\\b\\tc\\nd\\re')
    expect(httpParamValue(42)).to.equal('42')
    expect(httpParamValue(["it's", 'x\\'])).to.equal("['it\\\\'s','x\\\\\\\\']")
  })
})
