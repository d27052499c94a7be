import { randomBytes } from 'node:crypto'
import { signedHeaders } from '../harness/signed-client.js'
import { activityEvent, contactEvent } from './events.js'
import { type Random, randomInt } from './prng.js'

/** One forged or malformed request and the answer the service gives it (see docs/interface.md). */
export interface FuzzCase {
  kind: string
  method: string
  path: string
  headers: Record<string, string>
  body: Buffer | undefined
  /** The status for it; undefined: any 4xx. */
  expect: number | undefined
  /** Text of the body that must never reach a log (the log audit, scenario g, looks for it). */
  marker?: string
}

export const WEBHOOK_PATH = '/webhooks/crm'

let counter = 0
export const freshId = () => `msg_fuzz_${++counter}_${randomBytes(4).toString('hex')}`
export const now = () => Math.floor(Date.now() / 1000)

/** A valid event (contact or activity) to start from. */
export function validEvent(random: Random): Record<string, unknown> {
  const n = randomInt(random, 0, 1_000_000)
  const event =
    random() < 0.5
      ? contactEvent(`f-c${n}`, { organization: { id: `f-o${n}`, name: `F Org ${n}` }, score: 1 }).event
      : activityEvent(`f-a${n}`, `f-c${n}`, n % 6).event
  return structuredClone(event) as unknown as Record<string, unknown>
}

export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value))
}

export function signed(body: Buffer, id = freshId(), timestamp = now()): Record<string, string> {
  return { 'content-type': 'application/json', ...signedHeaders(body, id, timestamp) }
}

export function post(
  kind: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  expect?: number
): FuzzCase {
  return { kind, method: 'POST', path: WEBHOOK_PATH, headers, body, expect }
}
