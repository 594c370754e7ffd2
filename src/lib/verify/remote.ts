/**
 * Verification through a logbench serve: when a run's target is one and no
 * store is named, the run counts its rows through serve's read-only
 * POST /api/verify, behind serve's token when one is set.
 */
import {request} from 'undici'

import type {RunCounter, RunCounts} from './verify.js'

import {environmentError, messageOf, systemCodeOf} from '../errors.js'
import {SERVICE_NAME} from './route.js'

/** Is a logbench serve answering at the target's origin? Asks GET /health, briefly; any failure is "no". */
export async function isLogbenchServe(target: URL, signal?: AbortSignal): Promise<boolean> {
  try {
    const response = await request(new URL('/health', target.origin), {bodyTimeout: 3000, headersTimeout: 3000, signal})
    const text = await response.body.text()
    const body = JSON.parse(text) as {service?: unknown}
    return body.service === SERVICE_NAME
  } catch {
    return false
  }
}

export function serveCounter(target: URL, headers: Record<string, string> = {}): RunCounter {
  const url = new URL('/api/verify', target.origin)
  const count = async (input: Parameters<RunCounter['count']>[0], signal?: AbortSignal): Promise<RunCounts> => {
    let status: number
    let body: unknown
    try {
      const response = await request(url, {
        body: JSON.stringify(input),
        bodyTimeout: 120_000,
        headers: {...headers, 'content-type': 'application/json'},
        headersTimeout: 120_000,
        method: 'POST',
        signal,
      })
      status = response.statusCode
      body = JSON.parse(await response.body.text())
    } catch (error) {
      throw environmentError(`cannot verify through logbench serve at ${target.origin} (${systemCodeOf(error) ?? messageOf(error)})`, 'is serve still running?', error)
    }

    if (status === 401) throw environmentError(`serve at ${target.origin} refused the verification request (HTTP 401)`, 'set LOGBENCH_TOKEN to the token serve was started with')
    if (status !== 200) throw environmentError(`serve at ${target.origin} could not count the run's rows: ${(body as {error?: string})?.error ?? `HTTP ${status}`}`)
    return body as RunCounts
  }

  return {
    count,
    async rowsOfRun(runId, signal) {
      return (await count({acked: 0, batchSize: 1, failedKeys: [], failedKeysComplete: true, runId, workers: 1}, signal)).stored
    },
    where: `logbench serve at ${target.origin}`,
  }
}
