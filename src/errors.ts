import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import {
  databaseErrorSummary,
  isDatabaseError,
  isDatabaseUnavailable,
  isRefusedValue,
  sqlState
} from './db/database-errors.js'
import { isServiceError, OperatorKeyError } from './http-errors.js'

/**
 * Which HTTP status an error gets: the service's own errors carry theirs (src/http-errors.ts);
 * database errors are classified here; Fastify's keep theirs.
 */
function statusFor(error: FastifyError | Error): number {
  if (isServiceError(error)) return error.statusCode
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
  // The service's own messages are written for the caller, a 503 (missing migrations) included.
  if (isServiceError(error)) return error.message
  return statusCode >= 500 ? 'Internal Server Error' : error.message
}

/**
 * Logged: failures that are not the caller's to know (5xx other than the service's own answers),
 * and every database error, as a refused value means validation missed what the database cannot store.
 */
function logIfUnexpected(error: FastifyError, request: FastifyRequest, statusCode: number): void {
  if ((statusCode >= 500 && !isServiceError(error)) || isDatabaseError(error))
    request.log.error({ err: error }, 'request failed')
}

/** `{ statusCode, error, message }`; 5xx answers never carry internals, 4xx messages are for the caller. */
export function sendHttpError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = statusFor(error)
  logIfUnexpected(error, request, statusCode)
  const message = messageFor(error, statusCode)
  return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message })
}

/**
 * Operator API flavour: its own failures and a bad request are `{ success: false, error }`;
 * authentication and rate-limit answers, and failures that are not the caller's, keep the standard shape.
 */
export function sendOperatorError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = statusFor(error)
  const ownFailure = isServiceError(error) && !(error instanceof OperatorKeyError)
  if (!ownFailure && statusCode !== 400) return sendHttpError(error, request, reply)
  logIfUnexpected(error, request, statusCode)
  return reply.code(statusCode).send({ success: false, error: messageFor(error, statusCode) })
}
