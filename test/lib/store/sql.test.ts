import {expect} from 'chai'

import {assertIdentifier, bindParams, isIdentifier, quoteString} from '../../../src/lib/store/index.js'

describe('sql helpers', () => {
  it('accepts plain identifiers and refuses everything else', () => {
    for (const good of ['logs', 'logs_db', '_x1', 'A'.repeat(64)]) expect(isIdentifier(good), good).to.equal(true)
    for (const bad of ['', '1abc', 'a-b', 'a.b', 'a b', 'x`;DROP', 'A'.repeat(65), 'é']) expect(isIdentifier(bad), bad).to.equal(false)
    expect(() => assertIdentifier('a;b', 'database')).to.throw(/database "a;b" is not a valid identifier/)
  })

  it('escapes every character that could end a string literal', () => {
    expect(quoteString("x' OR 1=1 --")).to.equal("'x\\' OR 1=1 --'")
    expect(quoteString('a\\b')).to.equal("'a\\\\b'")
    expect(quoteString('a\nb\tc\rd\0e')).to.equal("'a\\nb\\tc\\rd\\0e'")
    expect(quoteString('日本😀')).to.equal("'日本😀'")
  })

  it('binds typed placeholders as literals', () => {
    expect(bindParams('SELECT 1 WHERE a = {a:String} AND n >= {n:UInt64}', {a: "o'k", n: 5})).to.equal("SELECT 1 WHERE a = 'o\\'k' AND n >= 5")
    expect(bindParams('x IN {xs:Array(String)}', {xs: ['a', "b'"]})).to.equal("x IN ['a', 'b\\'']")
    expect(bindParams('t > {t:DateTime}', {t: 1_700_000_000})).to.equal('t > toDateTime(1700000000)')
  })

  it('refuses a number parameter that is not a number, and missing or unused parameters', () => {
    expect(() => bindParams('n = {n:UInt32}', {n: '1 OR 1=1'})).to.throw(/not a number/)
    expect(() => bindParams('a = {a:String}', {})).to.throw(/has no value/)
    expect(() => bindParams('a = 1', {a: 'x'})).to.throw(/not used/)
  })
})
