import type { Static, TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { SandboxHttpError } from './http-error.js'

/** API v2 strictness: no coercion, wrong types and unknown fields are a 400 naming the field. */
export function validateBody<S extends TSchema>(schema: S, body: unknown): Static<S> {
  if (Value.Check(schema, body)) return body
  const problems = [...Value.Errors(schema, body)]
    .slice(0, 5)
    .map((error) => `${error.path || '/'}: ${error.message}`)
  throw new SandboxHttpError(400, `Validation failed: ${problems.join('; ')}`)
}

export function positiveInt(value: unknown, name: string): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(number) || number < 1)
    throw new SandboxHttpError(400, `${name} must be a positive integer`)
  return number
}
