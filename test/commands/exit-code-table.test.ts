import {expect} from 'chai'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {EXIT_CODES, exitCodesHelp, ExitCode, runExitCode} from '../../src/lib/errors.js'
import {repoRoot, runCli} from '../helpers.js'

/** The rows of the README's "Exit codes" table: code and meaning. */
function readmeExitCodes(): {code: number; meaning: string}[] {
  const text = readFileSync(path.join(repoRoot, 'README.md'), 'utf8')
  const section = text.slice(text.indexOf('## Exit codes'), text.indexOf('\n## ', text.indexOf('## Exit codes') + 1))
  return section
    .split('\n')
    .map((line) => /^\| (\d+) \| (.+) \|$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({code: Number(match[1]), meaning: match[2]}))
}

describe('exit codes: one table', () => {
  it('the README says exactly what the code decides', () => {
    expect(readmeExitCodes()).to.deep.equal(EXIT_CODES.map(({code, meaning}) => ({code, meaning})))
  })

  it('a finished run ends 130 when interrupted, else 4 when a check failed, else 5 when unverified, else 0', () => {
    expect(runExitCode({failed: true, interrupted: true})).to.equal(ExitCode.interrupted)
    expect(runExitCode({failed: true, interrupted: false, unverified: 'x'})).to.equal(ExitCode.checksFailed)
    expect(runExitCode({failed: false, interrupted: false, unverified: 'x'})).to.equal(ExitCode.unverified)
    expect(runExitCode({failed: false, interrupted: false})).to.equal(ExitCode.ok)
  })

  it("every command's --help lists the exit codes it can end with, in the table's words", async function () {
    this.timeout(120_000)
    const commands = readdirSync(path.join(repoRoot, 'src', 'commands'), {recursive: true, withFileTypes: true})
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => path.relative(path.join(repoRoot, 'src', 'commands'), path.join(entry.parentPath, entry.name)).replace(/\.ts$/, '').split(path.sep).join(' '))
    expect(commands).to.include.members(['run', 'parallel', 'merge', 'analyze', 'cleanup', 'doctor', 'report', 'serve'])
    for (const command of commands) {
      const help = await runCli([...command.split(' '), '--help'])
      expect(help.code, `${command}: ${help.stderr}`).to.equal(0)
      // The paragraph that starts with "Exit codes:", unwrapped.
      const lines = help.stdout.split('\n').map((text) => text.trim())
      const start = lines.findIndex((text) => text.startsWith('Exit codes:'))
      expect(start, `${command} --help has no "Exit codes:" paragraph`).to.not.equal(-1)
      const end = lines.indexOf('', start)
      const line = lines.slice(start, end === -1 ? undefined : end).join(' ')
      const codes = [...line!.matchAll(/(\d+) [a-z(]/g)].map((match) => Number(match[1]))
      expect(line!.trim(), command).to.equal(exitCodesHelp(codes as never))
    }
  })
})
