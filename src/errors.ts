import type { FastifyError } from 'fastify'
import { OperatorAuthError } from './routes/api/operator-auth.js'
import { WebhookPayloadError } from './webhooks/parse-event.js'
import { WebhookVerificationError } from './webhooks/verify.js'

/** The one place where an error type becomes an HTTP status. */
export function statusFor(error: FastifyError | Error): number {
  if (error instanceof WebhookVerificationError || error instanceof OperatorAuthError) return 401
  if (error instanceof WebhookPayloadError) return 400
  const status = (error as FastifyError).statusCode
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500
}
