import {BaseCommand, storeFlags} from '../base-command.js'
import {diagnose, type DoctorReport} from '../lib/doctor/index.js'
import {renderDoctor} from '../lib/report/doctor.js'

export default class Doctor extends BaseCommand {
  static summary = 'Show the storage logbench would use, its version and capabilities, and whether the schema exists.'
  static description = `Opens the store exactly as the other commands would (a ClickHouse server when --clickhouse-url or CLICKHOUSE_URL is set, the embedded engine otherwise), probes the server version once and prints the features derived from it. Exits 3 when the store cannot be used.`
  static examples = [
    '<%= config.bin %> doctor',
    'CLICKHOUSE_URL=http://127.0.0.1:8123 <%= config.bin %> doctor --json',
  ]

  static flags = {...storeFlags}

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parse(Doctor)
    const report = await diagnose(this.storeOptions(flags))
    if (!this.jsonEnabled()) this.log(renderDoctor(report))
    return report
  }
}
