import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import {
  databaseErrorSummary,
  isDatabaseError,
  isDatabaseUnavailable,
  isRefusedValue,
  sqlState
} from './db/database-errors.js'
import { MigrationsMissingError } from './db/migration-gate.js'
import { OperatorAuthError } from './routes/api/operator-auth.js'
import { WebhookPayloadError } from './webhooks/parse-event.js'
import { WebhookVerificationError } from './webhooks/verify.js'

/** The one place where an error type becomes an HTTP status. */
export function statusFor(error: FastifyError | Error): number {
  if (error instanceof WebhookVerificationError || error instanceof OperatorAuthError) return 401
  if (error instanceof WebhookPayloadError) return 400
  if (error instanceof MigrationsMissingError) return 503
  // Validation refuses what the database cannot store; a value that still gets through is the
  // request's, and retrying it cannot help.
  if (isRefusedValue(error)) return 400
  if (isDatabaseUnavailable(error)) return 503
  const status = (error as FastifyError).statusCode
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500
}

/** What the caller is told: a database error's text holds the query and its values. */
function messageFor(error: FastifyError, statusCode: number): string {
  if (isDatabaseError(error)) {
    if (statusCode === 400)
      return `a value in the request cannot be stored (database error ${sqlState(error)})`
    return isDatabaseUnavailable(error) ? databaseErrorSummary(error) : 'Internal Server Error'
  }
  if (error instanceof MigrationsMissingError) return error.message
  return statusCode >= 500 ? 'Internal Server Error' : error.message
}

/** `{ statusCode, error, message }`; 5xx answers never carry internals, 4xx messages are for the caller. */
export function sendHttpError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = statusFor(error)
  // The missing migrations are the caller's to know (and the operator's to fix), not an internal.
  const told = error instanceof MigrationsMissingError
  // A refused value means validation missed something the database cannot store: worth a look.
  if ((statusCode >= 500 && !told) || isDatabaseError(error))
    request.log.error({ err: error }, 'request failed')
  const message = messageFor(error, statusCode)
  return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message })
}

/**
 * Operator API flavour: a bad request and missing migrations are `{ success: false, error }` like
 * its other failures; authentication and rate-limit answers keep the standard shape.
 */
export function sendOperatorError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = statusFor(error)
  if (statusCode === 400 || error instanceof MigrationsMissingError) {
    if (isDatabaseError(error)) request.log.error({ err: error }, 'request failed')
    return reply.code(statusCode).send({ success: false, error: messageFor(error, statusCode) })
  }
  return sendHttpError(error, request, reply)
}
