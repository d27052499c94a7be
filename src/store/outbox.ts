import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm'
import type { Executor } from '../db/database.js'
import { callbackOutbox } from '../db/schema.js'
import { beforeMs } from './intervals.js'
import { deleteUpTo } from './prune.js'

export type OutboxRow = typeof callbackOutbox.$inferSelect

/** A row claimed for sending, with its age: a callback is given up on by age, not by attempts. */
export type ClaimedCallback = Pick<OutboxRow, 'id' | 'webhookId' | 'type' | 'payload' | 'attempts'> & {
  ageMs: number
}

/** Adds a callback; `executor` is the transaction of the state change it reports. */
export async function insertCallback(
  executor: Executor,
  callback: Pick<OutboxRow, 'webhookId' | 'type' | 'payload'>
): Promise<void> {
  await executor.insert(callbackOutbox).values(callback)
}

/**
 * Leases up to `limit` due rows (not delivered, not given up, next attempt reached, no live
 * lease), oldest first. SKIP LOCKED and the lease keep two instances from sending one row at once.
 */
export async function claimDueCallbacks(
  executor: Executor,
  { limit, leaseMs }: { limit: number; leaseMs: number }
): Promise<ClaimedCallback[]> {
  const due = executor
    .select({ id: callbackOutbox.id })
    .from(callbackOutbox)
    .where(
      and(
        isNull(callbackOutbox.deliveredAt),
        isNull(callbackOutbox.gaveUpAt),
        lte(callbackOutbox.nextAttemptAt, sql`now()`),
        or(isNull(callbackOutbox.lockedUntil), lt(callbackOutbox.lockedUntil, sql`now()`))
      )
    )
    .orderBy(asc(callbackOutbox.id))
    .limit(limit)
    .for('update', { skipLocked: true })
  return executor
    .update(callbackOutbox)
    .set({ lockedUntil: sql`now() + ${leaseMs} * interval '1 millisecond'` })
    .where(inArray(callbackOutbox.id, due))
    .returning({
      id: callbackOutbox.id,
      webhookId: callbackOutbox.webhookId,
      type: callbackOutbox.type,
      payload: callbackOutbox.payload,
      attempts: callbackOutbox.attempts,
      ageMs: sql<number>`(extract(epoch from (now() - ${callbackOutbox.createdAt})) * 1000)::float8`
    })
}

export async function markDelivered(executor: Executor, id: number): Promise<void> {
  await executor
    .update(callbackOutbox)
    .set({
      deliveredAt: sql`now()`,
      attempts: sql`${callbackOutbox.attempts} + 1`,
      lockedUntil: null,
      lastError: null
    })
    .where(eq(callbackOutbox.id, id))
}

/** A failed attempt: due again in `delayMs`. */
export async function scheduleRetry(
  executor: Executor,
  id: number,
  failure: { attempts: number; delayMs: number; error: string }
): Promise<void> {
  await executor
    .update(callbackOutbox)
    .set({
      attempts: failure.attempts,
      lockedUntil: null,
      nextAttemptAt: sql`now() + ${failure.delayMs} * interval '1 millisecond'`,
      lastError: failure.error
    })
    .where(eq(callbackOutbox.id, id))
}

/** A failed attempt after which the row is never sent again. */
export async function markGivenUp(
  executor: Executor,
  id: number,
  failure: { attempts: number; error: string }
): Promise<void> {
  await executor
    .update(callbackOutbox)
    .set({ gaveUpAt: sql`now()`, attempts: failure.attempts, lockedUntil: null, lastError: failure.error })
    .where(eq(callbackOutbox.id, id))
}

/** Ends the lease without counting an attempt: the row is due again at once. */
export async function releaseCallback(executor: Executor, id: number): Promise<void> {
  await executor.update(callbackOutbox).set({ lockedUntil: null }).where(eq(callbackOutbox.id, id))
}

/** Deletes up to `limit` callbacks delivered or given up on more than `olderThanMs` ago; returns how many. */
export async function deleteSettledCallbacks(
  db: Pick<Executor, 'select' | 'delete'>,
  olderThanMs: number,
  limit: number
): Promise<number> {
  const cutoff = beforeMs(olderThanMs)
  const settled = or(lt(callbackOutbox.deliveredAt, cutoff), lt(callbackOutbox.gaveUpAt, cutoff))
  return deleteUpTo(db, callbackOutbox, callbackOutbox.id, settled, limit)
}
