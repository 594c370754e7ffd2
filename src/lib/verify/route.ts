/**
 * A read-only verification endpoint: POST /api/verify counts the stored rows
 * of a run in serve's own table, so a run against this serve can verify without
 * store access of its own (the embedded engine is held by serve's process).
 * The body is a VerifyInput as JSON; the answer is one RunCounts.
 */
import type {IncomingMessage} from 'node:http'

import {messageOf} from '../errors.js'
import {parseVerifyInput, type RunCounter} from './verify.js'

/** What serve's GET /health names itself: a run that sees it may verify through POST /api/verify. */
export const SERVICE_NAME = 'logbench serve'

/** Largest verification request: the failed-batch list is capped well below this. */
const MAX_BODY = 4 * 1024 * 1024

export interface VerifyReply {
  status: number
  body: unknown
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY) throw new RangeError(`verification request larger than ${MAX_BODY} bytes`)
    chunks.push(chunk)
  }

  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

export async function verifyOverHttp(counter: () => Promise<RunCounter>, req: IncomingMessage, signal?: AbortSignal): Promise<VerifyReply> {
  let input
  try {
    input = parseVerifyInput(await readJson(req))
  } catch (error) {
    return {body: {error: `bad verification request: ${messageOf(error)}`}, status: 400}
  }

  try {
    return {body: await (await counter()).count(input, signal), status: 200}
  } catch (error) {
    return {body: {error: messageOf(error)}, status: 503}
  }
}
