import type {Capabilities, ProfileOverrides, ProfileSql, ProfileSummary, Role, StoreOptions} from '../store/index.js'

import {REPORT_NEEDS} from '../analyze/index.js'
import {REPORT_NAMES} from '../analyze/types.js'
import {missingRole, openStore, profileSql, summarizeProfile} from '../store/index.js'

/** One thing logbench can do with the table, and what it lacks for it. */
export interface FeatureCheck {
  feature: string
  ok: boolean
  /** Why not, naming the --column flag that would supply the role. */
  reason?: string
}

export interface DoctorReport {
  node: {version: string; ok: boolean}
  store: {
    kind: 'server' | 'embedded'
    location: string
    version: string
    database: string
    table: string
    schemaExists: boolean
    capabilities: Capabilities
  }
  /** The table's columns by role; null when the table does not exist yet. */
  profile: ProfileSummary | null
  features: FeatureCheck[]
}

/** The roles each feature needs: every inner list must have one of its roles mapped. */
const FEATURE_NEEDS: [string, Role[][]][] = [
  ['verification (run, parallel, merge)', [['run_id'], ['seq']]],
  ...REPORT_NAMES.map((name): [string, Role[][]] => [`analyze ${name}`, REPORT_NEEDS[name]]),
  ['cleanup --apps', [['app']]],
  ['cleanup --run-id', [['run_id']]],
  ['cleanup --before', [['ingest_time', 'event_time']]],
]

export function featureChecks(profile: ProfileSql): FeatureCheck[] {
  return FEATURE_NEEDS.map(([feature, needs]) => {
    const role = profile.lacking(needs)
    return role ? {feature, ok: false, reason: missingRole(profile.profile, role, feature)} : {feature, ok: true}
  })
}

/** Open the store the options describe and report what logbench would use. Throws (exit 3) when it is unusable. */
export async function diagnose(options: StoreOptions, columns: ProfileOverrides = {}): Promise<DoctorReport> {
  const store = await openStore(options)
  try {
    const {info} = store
    const schemaExists = await store.schemaExists()
    const profile = schemaExists ? await profileSql(store, columns) : undefined
    return {
      features: profile ? featureChecks(profile) : [],
      node: {ok: Number(process.versions.node.split('.')[0]) >= 22, version: process.version},
      profile: profile ? summarizeProfile(profile.profile) : null,
      store: {
        capabilities: info.capabilities,
        database: info.database,
        kind: info.kind,
        location: info.location,
        schemaExists,
        table: info.table,
        version: info.version.text,
      },
    }
  } finally {
    await store.close()
  }
}
