import {BaseCommand} from '../base-command.js'
import {exitCodesHelp} from '../lib/errors.js'
import {profileFlags, storeFlags} from '../flags.js'
import {diagnose, type DoctorReport} from '../lib/doctor/index.js'
import {renderDoctor} from '../lib/report/doctor.js'
import {parseColumnFlags} from '../lib/store/index.js'

export default class Doctor extends BaseCommand {
  static summary = 'Show the storage logbench would use, its version and capabilities, the table profile, and what the table lacks for which feature.'
  static description = `Opens the store exactly as the other commands would (a ClickHouse server when --clickhouse-url or CLICKHOUSE_URL is set, the embedded engine otherwise), probes the server version once and prints the features derived from it. For an existing table it prints the table profile (which column, or key inside a JSON or Map column, plays each role: event_time, ingest_time, app, level, message, source, run_id, seq) and, for each feature (verification, each analyze report, cleanup deletes), whether the table supports it or which --column flag would. Exits 3 when the store cannot be used.

${exitCodesHelp([0, 1, 2, 3])}`
  static examples = [
    '<%= config.bin %> doctor',
    'CLICKHOUSE_URL=http://127.0.0.1:8123 <%= config.bin %> doctor --json',
    '<%= config.bin %> doctor --clickhouse-url http://127.0.0.1:8123 --database otel --table otel_logs',
    "<%= config.bin %> doctor --database guide_db --column run_id=metadata.test_run --column event_time=ts",
  ]

  static flags = {...storeFlags, ...profileFlags}

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const report = await diagnose(this.storeOptions(flags), parseColumnFlags(flags.column))
    if (!this.jsonEnabled()) this.log(renderDoctor(report))
    return report
  }
}
