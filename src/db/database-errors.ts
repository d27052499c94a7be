import { DrizzleQueryError } from 'drizzle-orm/errors'

/**
 * Database errors carry what was sent: drizzle's message holds the query and its parameters, the
 * drivers keep them as properties (postgres.js `parameters`, PGlite `params`), and PostgreSQL's own
 * message and detail quote the values it refused. Callers get a short classified message; logs get
 * the facts below, which hold no value.
 */
export interface DatabaseErrorFacts {
  type: string
  message: string
  code?: string
  severity?: string
  schema?: string
  table?: string
  column?: string
  dataType?: string
  constraint?: string
  routine?: string
}

interface ServerError extends Error {
  code: string
  severity: string
}

const SQLSTATE = /^[0-9A-Z]{5}$/
// postgres.js's own codes for a connection it lost or could not make.
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT'
])
// Socket errors: database errors only when drizzle says so (they wrap everything a query throws).
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH'
])
// Connection exceptions (08), shutting down or starting (57P01–57P03), too many connections (53300).
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/
const MAX_MESSAGE_CHARS = 200
const MAX_CAUSES = 8

function isServerError(error: unknown): error is ServerError {
  if (!(error instanceof Error)) return false
  const { code, severity } = error as Partial<ServerError>
  return typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string'
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** The driver's error under drizzle's wrapper (the error itself when it is not wrapped). */
function driverError(error: unknown): unknown {
  return error instanceof DrizzleQueryError ? error.cause : error
}

export function isDatabaseError(error: unknown): boolean {
  return (
    error instanceof DrizzleQueryError || isServerError(error) || CONNECTION_CODES.has(codeOf(error) ?? '')
  )
}

/** The first database error in the error's cause chain (the error itself included). */
function databaseErrorIn(error: unknown): unknown {
  for (let current = error, depth = 0; current instanceof Error && depth < MAX_CAUSES; depth++) {
    if (isDatabaseError(current)) return current
    current = current.cause
  }
  return undefined
}

export function involvesDatabase(error: unknown): boolean {
  return databaseErrorIn(error) !== undefined
}

/** The PostgreSQL error code (SQLSTATE), when the server answered with one. */
export function sqlState(error: unknown): string | undefined {
  const cause = driverError(error)
  return isServerError(cause) ? cause.code : undefined
}

/** The database could not be reached or would not take the query now: worth retrying later. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!isDatabaseError(error)) return false
  const state = sqlState(error)
  if (state) return UNAVAILABLE_STATES.test(state)
  const code = codeOf(driverError(error)) ?? ''
  return CONNECTION_CODES.has(code) || (error instanceof DrizzleQueryError && SOCKET_CODES.has(code))
}

/**
 * A value the database refused (data exceptions, 22…; program limits such as an index row or
 * nesting too large, 54…): what a request carried, not a fault of the service.
 */
export function isRefusedValue(error: unknown): boolean {
  return /^(22|54)/.test(sqlState(error) ?? '')
}

/** For callers (answers, a job's lastError, callbacks): the class of failure, never its text. */
export function databaseErrorSummary(failure: unknown): string {
  const error = databaseErrorIn(failure) ?? failure
  if (isDatabaseUnavailable(error)) return 'database unavailable'
  const state = sqlState(error)
  return state ? `database error (${state})` : 'database error'
}

/** A caller's message for any error: database errors (or their wrappers) classified, others as they are. */
export function publicErrorMessage(error: unknown): string {
  const database = databaseErrorIn(error)
  if (database) return databaseErrorSummary(database)
  return error instanceof Error ? error.message : String(error)
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * PostgreSQL quotes what it refused (`invalid input syntax for type integer: "…"`). Quoted names
 * of the error's own schema objects stay, and so do all of them for errors about the statement
 * itself (42…, 3F…), which name tables and columns, never values.
 */
function redactQuoted(message: string, state: string | undefined, names: Array<string | undefined>): string {
  const keepAll = /^(42|3F)/.test(state ?? '')
  const redacted = message.replaceAll(/"((?:[^"]|"")*)"/g, (quoted, inner: string) =>
    keepAll || names.includes(inner) ? quoted : '"…"'
  )
  return redacted.length > MAX_MESSAGE_CHARS ? `${redacted.slice(0, MAX_MESSAGE_CHARS)}…` : redacted
}

/** What a log line may say about a database error: no query, no parameter, no quoted value. */
export function databaseErrorFacts(error: unknown): DatabaseErrorFacts {
  const cause = driverError(error)
  if (!isServerError(cause)) {
    const code = codeOf(cause)
    return {
      type: cause instanceof Error ? cause.constructor.name : 'DatabaseError',
      // Connection errors say where the database is, never what was sent.
      message: cause instanceof Error && code ? cause.message.slice(0, MAX_MESSAGE_CHARS) : 'query failed',
      ...(code ? { code } : {})
    }
  }
  // postgres.js spells the fields `table_name`, PGlite `table`.
  const field = (name: string) => {
    const record = cause as unknown as Record<string, unknown>
    return text(record[name]) ?? text(record[`${name}_name`])
  }
  const names = {
    schema: field('schema'),
    table: field('table'),
    column: field('column'),
    dataType: text((cause as unknown as Record<string, unknown>).dataType) ?? field('data_type'),
    constraint: field('constraint')
  }
  const facts: DatabaseErrorFacts = {
    // PGlite's class name is minified: the drivers' names are not worth more than that.
    type: cause.name === 'PostgresError' ? 'PostgresError' : 'DatabaseError',
    message: redactQuoted(cause.message, cause.code, Object.values(names)),
    code: cause.code,
    severity: cause.severity
  }
  for (const [name, value] of Object.entries(names)) if (value) facts[name as keyof typeof names] = value
  const routine = text((cause as unknown as Record<string, unknown>).routine)
  if (routine) facts.routine = routine
  return facts
}
