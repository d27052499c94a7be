import createError, { FastifyError } from '@fastify/error'

/**
 * The service's own errors, each with its code and HTTP status; `src/errors.ts` turns them into
 * answers. Their messages are written for the caller, who is told them as they are: none may hold a
 * secret, a token, a signature or a database error's text.
 */

/** An error whose message the thrower gives whole (one code, several texts). */
function given<C extends string, S extends number>(code: C, statusCode: S) {
  return createError<C, S, [message: string]>(code, '%s', statusCode)
}

/** Standard Webhooks: headers missing or bad, timestamp out of the window, no signature matches. */
export const WebhookVerificationError = given('PDS_SIGNATURE_INVALID', 401)
/** The verified body is not JSON, not storable, or not the event's schema. */
export const WebhookPayloadError = given('PDS_EVENT_INVALID', 400)
export const OperatorKeyError = createError<'PDS_OPERATOR_KEY_INVALID', 401, []>(
  'PDS_OPERATOR_KEY_INVALID',
  'missing or invalid operator key (Authorization: Bearer <OPERATOR_API_KEY>)',
  401
)
/** A route needs the database while its migrations are missing: the cause in the message. */
export const MigrationsMissingError = createError<'PDS_MIGRATIONS_MISSING', 503, []>(
  'PDS_MIGRATIONS_MISSING',
  'database migrations not applied: run npm run migrate',
  503
)

export const RouteNotFoundError = createError<'PDS_ROUTE_NOT_FOUND', 404, [method: string, url: string]>(
  'PDS_ROUTE_NOT_FOUND',
  'Route %s %s not found',
  404
)

export const ContactIdMismatchError = createError<
  'PDS_CONTACT_ID_MISMATCH',
  400,
  [bodyId: string, pathId: string]
>('PDS_CONTACT_ID_MISMATCH', 'contactId %s does not match the path (%s)', 400)
export const ContactNotFoundError = createError<'PDS_CONTACT_NOT_FOUND', 404, [id: string]>(
  'PDS_CONTACT_NOT_FOUND',
  'unknown contact %s',
  404
)
export const ActivityNotFoundError = createError<'PDS_ACTIVITY_NOT_FOUND', 404, [id: string]>(
  'PDS_ACTIVITY_NOT_FOUND',
  'unknown activity %s',
  404
)
export const JobNotFoundError = createError<'PDS_JOB_NOT_FOUND', 404, [jobId: string]>(
  'PDS_JOB_NOT_FOUND',
  'unknown job %s',
  404
)
/** Only a dead or retrying job can be retried; the message says what the job is instead. */
export const JobNotFailedError = given('PDS_JOB_NOT_FAILED', 409)
export const CursorInvalidError = given('PDS_CURSOR_INVALID', 400)

// setup-user's failures; their messages come from src/sync/setup-user.ts.
export const TokenKeyMissingError = given('PDS_TOKEN_KEY_MISSING', 400)
export const PipedriveUserNotFoundError = given('PDS_PIPEDRIVE_USER_NOT_FOUND', 404)
export const TokenRejectedError = given('PDS_TOKEN_REJECTED', 422)
export const PipedriveUnreachableError = given('PDS_PIPEDRIVE_UNREACHABLE', 503)
export const DatabaseUnavailableError = given('PDS_DATABASE_UNAVAILABLE', 503)

const SERVICE_CODE = /^PDS_/

/** One of the errors above (Fastify's own errors are FastifyErrors too, with FST_ codes). */
export function isServiceError(error: unknown): error is FastifyError & { statusCode: number } {
  return error instanceof FastifyError && SERVICE_CODE.test(error.code)
}
