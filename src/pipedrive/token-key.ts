import { createHash } from 'node:crypto'

/**
 * A stable, non-reversible name for a token: budgets, caches and logs are keyed by it so the
 * token itself is never stored outside the request header (nor, later, in a shared table).
 */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16)
}
