import { inArray, lt, or } from 'drizzle-orm'
import type { Executor } from '../db/database.js'
import { callbackOutbox } from '../db/schema.js'
import { beforeMs } from './intervals.js'

/** Deletes up to `limit` callbacks delivered or given up on more than `olderThanMs` ago; returns how many. */
export async function deleteSettledCallbacks(
  db: Pick<Executor, 'select' | 'delete'>,
  olderThanMs: number,
  limit: number
): Promise<number> {
  const cutoff = beforeMs(olderThanMs)
  const settled = db
    .select({ id: callbackOutbox.id })
    .from(callbackOutbox)
    .where(or(lt(callbackOutbox.deliveredAt, cutoff), lt(callbackOutbox.gaveUpAt, cutoff)))
    .limit(limit)
  const deleted = await db
    .delete(callbackOutbox)
    .where(inArray(callbackOutbox.id, settled))
    .returning({ id: callbackOutbox.id })
  return deleted.length
}
