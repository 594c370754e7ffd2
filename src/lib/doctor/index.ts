import type {Capabilities, StoreOptions} from '../store/index.js'

import {openStore} from '../store/index.js'

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
}

/** Open the store the options describe and report what logbench would use. Throws (exit 3) when it is unusable. */
export async function diagnose(options: StoreOptions): Promise<DoctorReport> {
  const store = await openStore(options)
  try {
    const {info} = store
    return {
      node: {ok: Number(process.versions.node.split('.')[0]) >= 22, version: process.version},
      store: {
        capabilities: info.capabilities,
        database: info.database,
        kind: info.kind,
        location: info.location,
        schemaExists: await store.schemaExists(),
        table: info.table,
        version: info.version.text,
      },
    }
  } finally {
    await store.close()
  }
}
