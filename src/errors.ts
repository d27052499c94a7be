import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { MigrationsMissingError } from './db/migration-gate.js'
import { OperatorAuthError } from './routes/api/operator-auth.js'
import { WebhookPayloadError } from './webhooks/parse-event.js'
import { WebhookVerificationError } from './webhooks/verify.js'

/** The one place where an error type becomes an HTTP status. */
export function statusFor(error: FastifyError | Error): number {
  if (error instanceof WebhookVerificationError || error instanceof OperatorAuthError) return 401
  if (error instanceof WebhookPayloadError) return 400
  if (error instanceof MigrationsMissingError) return 503
  const status = (error as FastifyError).statusCode
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500
}

/** `{ statusCode, error, message }`; 5xx answers never carry internals, 4xx messages are for the caller. */
export function sendHttpError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = statusFor(error)
  // The missing migrations are the caller's to know (and the operator's to fix), not an internal.
  const told = error instanceof MigrationsMissingError
  if (statusCode >= 500 && !told) request.log.error({ err: error }, 'request failed')
  const message = statusCode >= 500 && !told ? 'Internal Server Error' : error.message
  return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message })
}

/**
 * Operator API flavour: a bad request and missing migrations are `{ success: false, error }` like
 * its other failures; authentication and rate-limit answers keep the standard shape.
 */
export function sendOperatorError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const statusCode = statusFor(error)
  if (statusCode === 400 || error instanceof MigrationsMissingError) {
    return reply.code(statusCode).send({ success: false, error: error.message })
  }
  return sendHttpError(error, request, reply)
}
