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

/** Deeper bodies are refused: no event nests like this, and the database's own JSON parser has a limit. */
export const MAX_NESTING_DEPTH = 64

function unstorable(text: string): boolean {
  return text.includes('\0') || !text.isWellFormed()
}

/**
 * PostgreSQL stores neither NUL nor lone surrogates in text or jsonb, in values or in keys: such a
 * body is bad input (400), found here before it reaches the database. Walked with an explicit
 * stack, so a deep body cannot overflow the call stack.
 */
function findUnstorable(value: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: 'body', depth: 0 }]
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const { value: current, path, depth } = entry
    if (typeof current === 'string') {
      if (unstorable(current)) return `${path}: NUL or unpaired surrogate in string`
      continue
    }
    if (current === null || typeof current !== 'object') continue
    if (depth >= MAX_NESTING_DEPTH) return `${path}: nested deeper than ${MAX_NESTING_DEPTH} levels`
    for (const [key, child] of Object.entries(current)) {
      const childPath = path === 'body' ? key : `${path}.${key}`
      if (unstorable(key)) return `${path}: NUL or unpaired surrogate in a key`
      stack.push({ value: child, path: childPath, depth: depth + 1 })
    }
  }
  return undefined
}

/** Counts brackets (in strings too: an over-count only costs the walk) to skip it for ordinary bodies. */
function mayNestDeeply(text: string): boolean {
  let open = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if ((code === 123 || code === 91) && ++open >= MAX_NESTING_DEPTH) return true
  }
  return false
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
  // Only \u escapes produce such strings, and only many brackets deep nesting: the walk is skipped
  // for nearly every event.
  const problem = text.includes('\\u') || mayNestDeeply(text) ? findUnstorable(value) : undefined
  if (problem) throw new WebhookPayloadError(`invalid event: ${problem}`)
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
