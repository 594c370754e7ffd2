/** Run the built CLI as a child process and read the one JSON document it prints (--json). */
import {spawn} from 'node:child_process'

export function runJson<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'inherit']})
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      try {
        const result = JSON.parse(stdout) as T
        if (code !== 0) process.stderr.write(`logbench exited with code ${code}\n`)
        resolve(result)
      } catch {
        reject(new Error(`logbench exited with code ${code} without a JSON result:\n${stdout.slice(0, 2000)}`))
      }
    })
  })
}
