import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import {
  ActivityCreatedEvent,
  type ActivityCreatedEventT,
  ContactUpdatedEvent,
  type ContactUpdatedEventT,
  EventEnvelope
} from '../schemas/webhook-events.js'

export class WebhookPayloadError extends Error {
  override name = 'WebhookPayloadError'
}

export type ParsedEvent =
  | { kind: 'contact.updated'; event: ContactUpdatedEventT }
  | { kind: 'activity.created'; event: ActivityCreatedEventT }
  | { kind: 'ignored'; type: string }

const envelope = TypeCompiler.Compile(EventEnvelope)
const contactUpdated = TypeCompiler.Compile(ContactUpdatedEvent)
const activityCreated = TypeCompiler.Compile(ActivityCreatedEvent)
const MAX_REPORTED_PROBLEMS = 10

/** `/data/owner/email` → `data.owner.email`; the root is named `body`. */
function fieldPath(pointer: string): string {
  if (pointer === '') return 'body'
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.')
}

function check<T extends TSchema>(
  compiled: ReturnType<typeof TypeCompiler.Compile<T>>,
  value: unknown
): void {
  if (compiled.Check(value)) return
  const problems = new Map<string, string>()
  for (const error of compiled.Errors(value)) {
    const path = fieldPath(error.path)
    // The first error of a path is the most specific one TypeBox reports.
    if (!problems.has(path)) problems.set(path, error.message)
    if (problems.size >= MAX_REPORTED_PROBLEMS) break
  }
  const list = [...problems].map(([path, message]) => `${path}: ${message}`).join('; ')
  throw new WebhookPayloadError(`invalid event: ${list}`)
}

/** PostgreSQL stores neither NUL nor lone surrogates in text or jsonb: refuse them as bad input. */
function findUnstorableString(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') || !value.isWellFormed() ? path : undefined
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, child] of Object.entries(value)) {
    const found = findUnstorableString(child, path === 'body' ? key : `${path}.${key}`)
    if (found) return found
  }
  return undefined
}

/** Parses the verified raw body and checks it against the event schemas. */
export function parseEvent(body: Buffer): ParsedEvent {
  const text = body.toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new WebhookPayloadError('body is not valid JSON')
  }
  // Only \u escapes can produce such strings, so the walk is skipped for nearly every event.
  const unstorable = text.includes('\\u') ? findUnstorableString(value, 'body') : undefined
  if (unstorable)
    throw new WebhookPayloadError(`invalid event: ${unstorable}: NUL or unpaired surrogate in string`)
  check(envelope, value)
  const type = (value as { type: string }).type
  if (type === 'contact.updated') {
    check(contactUpdated, value)
    return { kind: type, event: value as ContactUpdatedEventT }
  }
  if (type === 'activity.created') {
    check(activityCreated, value)
    return { kind: type, event: value as ActivityCreatedEventT }
  }
  return { kind: 'ignored', type }
}
