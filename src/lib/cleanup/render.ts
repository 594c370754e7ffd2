import chalk from 'chalk'

import type {CleanupPlan, CleanupResult} from './index.js'

import {describeFilters} from '../analyze/filters.js'
import {renderTable} from '../format/table.js'
import {formatDuration, formatInt} from '../format/units.js'

function conditionOf(plan: CleanupPlan): string {
  const filters = plan.filters
  if (!filters) return ''
  return describeFilters({
    apps: filters.apps,
    before: filters.before === null ? undefined : Date.parse(filters.before),
    levels: [],
    runIds: filters.runIds,
  })
}

/** One sentence saying what will be removed, for the confirmation question and --dry-run. */
export function describePlan(plan: CleanupPlan): string {
  const table = `${plan.database}.${plan.table} (${plan.store})`
  if (!plan.exists) return `table ${table} does not exist: nothing to clean`
  const rows = (n: number | null) => `${formatInt(n ?? 0)} row${n === 1 ? '' : 's'}`
  const parts: string[] = []
  for (const action of plan.actions) {
    switch (action) {
      case 'delete': {
        parts.push(`delete ${rows(plan.affectedRows)} of ${formatInt(plan.rowsBefore)} from ${table} where ${conditionOf(plan)}`)
        break
      }

      case 'truncate': {
        parts.push(`truncate ${table}: delete all ${rows(plan.rowsBefore)}`)
        break
      }

      case 'drop': {
        parts.push(`DROP TABLE ${table} with its ${rows(plan.rowsBefore)}`)
        break
      }

      case 'optimize': {
        parts.push(`merge the ${formatInt(plan.partsBefore)} active parts of ${table} (OPTIMIZE … FINAL)`)
        break
      }
    }
  }

  return parts.join(', then ')
}

const METHOD: Record<string, string> = {
  'lightweight-delete': 'lightweight DELETE',
  'mutation-poll': 'ALTER TABLE … DELETE, polled in system.mutations until done',
  'mutation-sync': 'ALTER TABLE … DELETE with mutations_sync = 2',
}

/** The human report: what was (or would be) done, with row counts before and after. */
export function renderCleanup(result: CleanupResult): string {
  const lines: string[] = []
  const verb = result.dryRun ? chalk.yellow('dry run, nothing changed: would ') : ''
  lines.push(verb + describePlan(result))
  if (!result.exists && !result.executed) return lines.join('\n')
  if (result.deleteMethod) lines.push(`method: ${METHOD[result.deleteMethod]}`)
  const head = ['', 'rows', 'active parts']
  const rows: string[][] = [['before', formatInt(result.rowsBefore), formatInt(result.partsBefore)]]
  if (result.executed) {
    rows.push(['after', result.actions.includes('drop') && !result.exists ? '(table dropped)' : formatInt(result.rowsAfter), formatInt(result.partsAfter)])
  }

  lines.push(renderTable({align: ['left', 'right', 'right'], head, rows}))
  if (result.executed) {
    const removed = `${chalk.bold(formatInt(result.removedRows))} rows removed in ${formatDuration(result.durationMs)}`
    lines.push(result.remainingMatching ? `${removed}; ${chalk.yellow(`${formatInt(result.remainingMatching)} matching rows remain (inserted meanwhile?)`)}` : removed)
    if (result.deleteMethod === 'lightweight-delete' && result.removedRows && !result.actions.includes('optimize')) {
      lines.push(chalk.dim('a lightweight DELETE only marks rows: merges free the disk space later, --optimize frees it now'))
    }
  }

  return lines.join('\n')
}
