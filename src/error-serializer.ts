import { databaseErrorFacts, isDatabaseError } from './db/database-errors.js'

/**
 * pino's `err` serializer. The standard one copies every enumerable property and folds the
 * causes' messages into the message and the stack: a database error then logs its query and
 * bound values (personal data, request bodies). Here database errors log only their facts
 * (class, SQLSTATE, schema object names, a redacted message), wherever they sit in the chain.
 */

// Properties under which drivers and wrappers keep what was sent to the database.
const UNSAFE_KEYS = new Set([
  'query',
  'parameters',
  'params',
  'args',
  'types',
  'queryOptions',
  'detail',
  'where',
  'internalQuery',
  'internal_query'
])
const MAX_CAUSES = 8

/** The stack's frames only: its first lines repeat the message, which may hold anything. */
function frames(error: Error, type: string, message: string): string | undefined {
  const lines = error.stack?.split('\n')
  if (!lines) return undefined
  const first = lines.findIndex((line) => /^\s+at /.test(line))
  return [`${type}: ${message}`, ...(first === -1 ? [] : lines.slice(first))].join('\n')
}

function serialize(value: unknown, depth: number): unknown {
  if (!(value instanceof Error)) return value
  if (isDatabaseError(value)) {
    const facts = databaseErrorFacts(value)
    const stack = frames(value, facts.type, facts.message)
    return stack ? { ...facts, stack } : facts
  }
  const type = value.constructor.name || value.name
  const out: Record<string, unknown> = { type, message: value.message }
  const stack = frames(value, type, value.message)
  if (stack) out.stack = stack
  for (const [key, property] of Object.entries(value)) {
    if (UNSAFE_KEYS.has(key) || key === 'cause') continue
    out[key] = property instanceof Error ? serialize(property, depth + 1) : property
  }
  if (value instanceof AggregateError && Array.isArray(value.errors))
    out.aggregateErrors = value.errors.map((error) => serialize(error, depth + 1))
  if (value.cause !== undefined && depth < MAX_CAUSES) out.cause = serialize(value.cause, depth + 1)
  return out
}

export function serializeError(value: unknown): unknown {
  return serialize(value, 0)
}
