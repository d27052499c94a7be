import { inArray, type SQL } from 'drizzle-orm'
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core'
import type { Executor } from '../db/database.js'

/**
 * Deletes up to `limit` rows of `table` that match `where`, picked by their primary key `key`;
 * returns how many. The limit keeps each prune batch short (src/jobs/pruner.ts).
 */
export async function deleteUpTo(
  db: Pick<Executor, 'select' | 'delete'>,
  table: PgTable,
  key: PgColumn,
  where: SQL | undefined,
  limit: number
): Promise<number> {
  const batch = db.select({ key }).from(table).where(where).limit(limit)
  const deleted = await db.delete(table).where(inArray(key, batch)).returning({ key })
  return deleted.length
}
