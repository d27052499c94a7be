import type { Static, TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import type { ValueError } from '@sinclair/typebox/errors'
import { WebhookPayloadError } from '../http-errors.js'
import { EventEnvelope, HANDLED_EVENTS, type HandledEventType } from '../schemas/webhook-events.js'
import { findUnstorable } from './unstorable-json.js'

export type ParsedEvent =
  | { [K in HandledEventType]: { kind: K; event: Static<(typeof HANDLED_EVENTS)[K]> } }[HandledEventType]
  | { kind: 'ignored'; type: string }

const envelope = TypeCompiler.Compile(EventEnvelope)
const checkers = Object.fromEntries(
  Object.entries(HANDLED_EVENTS).map(([type, schema]) => [type, TypeCompiler.Compile(schema)])
) as { [K in HandledEventType]: TypeCheck<(typeof HANDLED_EVENTS)[K]> }
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

/**
 * A union's own error says only "Expected union value". For a nullable field that is not null,
 * the other variant's errors say what is wrong (`data.pipedrivePersonId: Expected integer to be
 * less or equal to …`, `data.owner.email: …`); otherwise, errors a variant found deeper than the
 * union name the field.
 */
function* specific(error: ValueError): Generator<ValueError> {
  const variants = (error.schema as { anyOf?: TSchema[] }).anyOf
  if (!variants || error.errors.length !== variants.length) {
    yield error
    return
  }
  const notNull = error.errors.filter((_, i) => error.value === null || variants[i]?.type !== 'null')
  const found = notNull.length === 1 ? [...(notNull[0] ?? [])] : notNull.flatMap((variant) => [...variant])
  const named = notNull.length === 1 ? found : found.filter((e) => e.path !== error.path)
  if (named.length === 0) {
    yield error
    return
  }
  for (const nested of named) yield* specific(nested)
}

function check(compiled: TypeCheck<TSchema>, value: unknown): void {
  if (compiled.Check(value)) return
  const problems = new Map<string, string>()
  for (const error of compiled.Errors(value)) {
    for (const { path: pointer, message } of specific(error)) {
      const path = fieldPath(pointer)
      // The first error of a path is the most specific one TypeBox reports.
      if (!problems.has(path)) problems.set(path, message)
    }
    if (problems.size >= MAX_REPORTED_PROBLEMS) break
  }
  const list = [...problems].map(([path, message]) => `${path}: ${message}`).join('; ')
  throw new WebhookPayloadError(`invalid event: ${list}`)
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
  const problem = findUnstorable(text, value)
  if (problem) throw new WebhookPayloadError(`invalid event: ${problem}`)
  check(envelope, value)
  const type = (value as { type: string }).type
  if (Object.hasOwn(checkers, type)) {
    const kind = type as HandledEventType
    check(checkers[kind] as TypeCheck<TSchema>, value)
    return { kind, event: value } as ParsedEvent
  }
  return { kind: 'ignored', type }
}
