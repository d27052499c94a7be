import { inArray, lt, sql } from 'drizzle-orm'
import type { Executor } from '../db/database.js'
import { webhookInbox } from '../db/schema.js'
import { beforeMs } from './intervals.js'

/**
 * The inbox row of a webhook, for a prepared statement (placeholders `webhookId`, `type`,
 * `rawBody`): it returns nothing for a webhook id seen before, so a statement built on it can
 * make everything else it writes follow from it.
 */
export const insertInboxRow = sql`insert into webhook_inbox (webhook_id, type, payload)
  values (${sql.placeholder('webhookId')}, ${sql.placeholder('type')}, ${sql.placeholder('rawBody')}::jsonb)
  on conflict (webhook_id) do nothing returning webhook_id`

/** Deletes up to `limit` inbox rows received more than `olderThanMs` ago; returns how many. */
export async function deleteInboxRows(
  db: Pick<Executor, 'select' | 'delete'>,
  olderThanMs: number,
  limit: number
): Promise<number> {
  const old = db
    .select({ webhookId: webhookInbox.webhookId })
    .from(webhookInbox)
    .where(lt(webhookInbox.receivedAt, beforeMs(olderThanMs)))
    .limit(limit)
  const deleted = await db
    .delete(webhookInbox)
    .where(inArray(webhookInbox.webhookId, old))
    .returning({ webhookId: webhookInbox.webhookId })
  return deleted.length
}
