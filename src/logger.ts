import type { LoggerOptions } from 'pino'

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

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' }
  }
}
