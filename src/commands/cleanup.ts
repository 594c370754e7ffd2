import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {profileFlags, storeFlags} from '../flags.js'
import {parseDuration} from '../lib/parse.js'
import {type CleanupResult, executeCleanup, isDestructive, parseCleanupRequest, planCleanup, unexecutedResult} from '../lib/cleanup/index.js'
import {describePlan, renderCleanup} from '../lib/cleanup/render.js'
import {exitCodesHelp, usageError} from '../lib/errors.js'
import {openStore, parseColumnFlags} from '../lib/store/index.js'

export default class Cleanup extends BaseCommand {
  static summary = 'Delete test data safely: truncate, delete by app, run id or age, optimize, or drop the table.'
  static description = `Removes test data from the logs table and prints row counts before and after.

It works on logbench's own table, and on a table of yours when you name it with --database / --table (a MergeTree table outside the system databases): deletes by --apps, --run-id and --before read its columns through the table profile (--column to say where a role lives).

--apps, --run-id and --before delete the rows that match all of them: with a lightweight DELETE where the server has it (ClickHouse 23.3+), otherwise with ALTER TABLE … DELETE awaited until the mutation is done (mutations_sync where the server has it, else by polling system.mutations). --truncate empties the table, --drop removes it, --optimize runs OPTIMIZE TABLE … FINAL (after any delete).

Anything that removes data asks for confirmation on a terminal; without a terminal (scripts, CI, --json) it needs --yes and otherwise exits 2 without touching anything. --dry-run shows what would go.

${exitCodesHelp([0, 1, 2, 3, 130])}`

  static examples = [
    {command: '<%= config.bin %> cleanup --truncate --yes', description: 'Empty the table between two load tests'},
    {command: '<%= config.bin %> cleanup --run-id 7f3a --dry-run', description: 'Count the rows of one run without deleting them'},
    {command: '<%= config.bin %> cleanup --apps payment-service,auth-service --yes', description: 'Delete the rows of some apps (the guide\'s DELETE)'},
    {command: '<%= config.bin %> cleanup --before 1d --optimize --yes --json', description: 'Delete rows older than a day, merge parts, report as JSON'},
    {command: '<%= config.bin %> cleanup --drop', description: 'Drop the table (asks first)'},
    {command: '<%= config.bin %> cleanup --truncate --yes --database guide_db', description: 'Empty your own table (named, so cleanup may change it)'},
  ]

  static flags = {
    ...storeFlags,
    ...profileFlags,
    truncate: Flags.boolean({description: 'delete every row (TRUNCATE TABLE)', helpGroup: 'ACTIONS'}),
    apps: Flags.string({
      delimiter: ',',
      description: 'delete the rows of these apps (comma-separated)',
      helpGroup: 'ACTIONS',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'run-id': Flags.string({
      delimiter: ',',
      description: 'delete the rows of these run ids (comma-separated)',
      helpGroup: 'ACTIONS',
      multiple: true,
      multipleNonGreedy: true,
    }),
    before: Flags.string({
      description: 'delete rows stored (ingest time, else event time) before this time: 2h, 1d (ago), ISO-8601 (UTC when no zone), epoch seconds or ms',
      helpGroup: 'ACTIONS',
    }),
    optimize: Flags.boolean({description: 'merge parts with OPTIMIZE TABLE … FINAL (after any delete)', helpGroup: 'ACTIONS'}),
    drop: Flags.boolean({description: 'drop the table itself (serve re-creates it)', helpGroup: 'ACTIONS'}),
    yes: Flags.boolean({char: 'y', description: 'do not ask: required when not on a terminal'}),
    'dry-run': Flags.boolean({description: 'show what would be removed, change nothing'}),
    timeout: Flags.string({default: '10m', description: 'how long to wait for a DELETE, OPTIMIZE or TRUNCATE to finish'}),
  }

  async run(): Promise<CleanupResult> {
    const {flags} = await this.parse(Cleanup)
    const request = parseCleanupRequest({
      apps: flags.apps,
      before: flags.before,
      drop: flags.drop,
      optimize: flags.optimize,
      runIds: flags['run-id'],
      truncate: flags.truncate,
    })
    const mutationTimeoutMs = parseDuration(flags.timeout, '--timeout')
    const columns = parseColumnFlags(flags.column)
    const json = this.jsonEnabled()
    const {interactive} = this
    const destructive = isDestructive(request)
    // Refuse before opening anything: nothing can be deleted by a run that was not confirmed.
    if (destructive && !flags.yes && !flags['dry-run'] && !interactive) {
      throw usageError(
        'cleanup removes data and needs confirmation, but there is no terminal to ask on',
        'pass --yes to go ahead, or --dry-run to see what would be removed',
      )
    }

    const store = await openStore(this.storeOptions(flags))
    try {
      const signal = this.abortController.signal
      const plan = await planCleanup(store, request, {columns, signal, tableNamed: this.tableNamed()})
      const planned = unexecutedResult(plan, flags['dry-run'])
      if (flags['dry-run'] || !plan.exists) {
        if (!json) this.log(renderCleanup(planned))
        return planned
      }

      if (destructive && !flags.yes && !(await this.confirm(`${describePlan(plan)}. Go ahead? [y/N] `))) {
        if (!json) this.log('cancelled: nothing changed')
        return planned
      }

      const result = await executeCleanup(store, request, plan, {
        columns,
        mutationTimeoutMs,
        onProgress: json ? undefined : (message) => process.stderr.write(`${message}\n`),
        signal,
      })
      if (!json) this.log(renderCleanup(result))
      return result
    } finally {
      await store.close()
    }
  }
}
