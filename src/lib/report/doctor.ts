import chalk from 'chalk'

import type {DoctorReport} from '../doctor/index.js'

export function renderDoctor(report: DoctorReport): string {
  const {store} = report
  const yes = (on: boolean) => (on ? chalk.green('yes') : chalk.dim('no'))
  const lines = [
    `store        ${store.kind === 'server' ? 'ClickHouse server' : 'embedded engine (chDB)'} at ${store.location}`,
    `version      ${store.version}`,
    `table        ${store.database}.${store.table} (${store.schemaExists ? 'exists' : 'not created yet; serve creates it'})`,
    `node         ${report.node.version}`,
    'capabilities',
    ...Object.entries(store.capabilities).map(([name, on]) => `  ${name.padEnd(20)} ${yes(on)}`),
  ]
  return lines.join('\n')
}
