import { SandboxHttpError } from '../http-error.js'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 500

/** v2 cursor pagination: an opaque cursor (here the offset, encoded) and `next_cursor` or null. */
export function page<T>(items: T[], query: { limit?: string; cursor?: string }) {
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new SandboxHttpError(400, `limit must be an integer between 1 and ${MAX_LIMIT}`)
  }
  let offset = 0
  if (query.cursor) {
    offset = Number(Buffer.from(query.cursor, 'base64url').toString())
    if (!Number.isInteger(offset) || offset < 0) throw new SandboxHttpError(400, 'invalid cursor')
  }
  const data = items.slice(offset, offset + limit)
  const next =
    offset + limit < items.length ? Buffer.from(String(offset + limit)).toString('base64url') : null
  return { success: true, data, additional_data: { next_cursor: next } }
}

export function ok(data: unknown, additional_data?: unknown) {
  return { success: true, data, ...(additional_data === undefined ? {} : { additional_data }) }
}
