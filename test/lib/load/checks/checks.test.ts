import {expect} from 'chai'

import {checkVerdict} from '../../../../src/lib/load/checks/checks.js'

describe('run verdict', () => {
  it('fails a run the target acknowledged nothing of, even without thresholds', () => {
    const verdict = checkVerdict({logs: {acked: 0, sent: 4000}, thresholds: [], verification: undefined}, 0)
    expect(verdict.failed).to.equal(true)
    expect(verdict.reasons[0]).to.equal('nothing was acknowledged of 4,000 logs sent')
    expect(checkVerdict({logs: {acked: 4000, sent: 4000}, thresholds: [], verification: undefined}, 0).failed).to.equal(false)
    expect(checkVerdict({logs: {acked: 0, sent: 0}, thresholds: [], verification: undefined}, 0).failed).to.equal(false)
  })
})
