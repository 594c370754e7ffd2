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
  if (report.profile) {
    lines.push(`table profile (${report.profile.shape} shape${report.profile.fromFlags.length > 0 ? `; from --column: ${report.profile.fromFlags.join(', ')}` : ''})`)
    for (const [role, where] of Object.entries(report.profile.roles)) lines.push(`  ${role.padEnd(20)} ${where ?? chalk.dim('—')}`)
    lines.push('features')
    for (const check of report.features) lines.push(`  ${check.feature.padEnd(36)} ${check.ok ? chalk.green('yes') : `${chalk.yellow('no')}  ${chalk.dim(check.reason ?? '')}`}`)
  }

  return lines.join('\n')
}
