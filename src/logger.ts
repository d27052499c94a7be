import type { LogFn, LoggerOptions } from 'pino'
import { publicErrorMessage } from './db/database-errors.js'
import { serializeError } from './error-serializer.js'

/** Anything that could carry a credential is censored before it reaches a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["webhook-signature"]',
  'req.headers["x-api-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["webhook-signature"]',
  'headers["x-api-token"]',
  '*.apiToken',
  '*.api_token',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization'
]

/**
 * Without a message, pino logs the error's own: a database error's holds its query and values.
 * Such a call gets the error's classified message instead.
 */
function logMethod(this: unknown, args: Parameters<LogFn>, method: LogFn): void {
  const [first] = args
  if (args.length === 1 && typeof first === 'object' && first !== null) {
    const error = first instanceof Error ? first : (first as { err?: unknown }).err
    if (error instanceof Error) {
      method.apply(this, [first, publicErrorMessage(error)])
      return
    }
  }
  method.apply(this, args)
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Errors never log a query's text or bound values (see error-serializer.ts).
    serializers: { err: serializeError },
    hooks: { logMethod }
  }
}
