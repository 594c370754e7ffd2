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

describe('server statement timeouts', () => {
  it('says a statement may still be running when ClickHouse does not answer in time, not that it is unreachable', async () => {
    const http = await import('node:http')
    const {ServerStore} = await import('../../../src/lib/store/server.js')
    // A server that answers the version probe, then holds every other statement.
    const server = http.createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        if (body.includes('version()')) res.end('{"v":"18.16.1"}\n')
        else if (body.includes('system.columns')) res.end('')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as {port: number}
    const store = await ServerStore.open({database: 'd', table: 't', url: `http://127.0.0.1:${port}`})
    try {
      await store.command('OPTIMIZE TABLE d.t FINAL', undefined, {timeoutMs: 300})
      expect.fail('should time out')
    } catch (error) {
      expect((error as Error).message).to.match(/did not answer within 0\.3 s; the statement may still be running there/)
      expect((error as {exitCode?: number}).exitCode).to.equal(3)
    } finally {
      await store.close()
      server.closeAllConnections()
      server.close()
    }
  })
})
