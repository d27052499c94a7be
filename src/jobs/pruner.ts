import { sql } from 'drizzle-orm'
import { type Database, rows } from '../db/database.js'

const DAY_MS = 24 * 60 * 60 * 1000
/** Deletes in batches so a large backlog never holds long locks or one huge transaction. */
const BATCH_SIZE = 1_000

export interface PruneCounts {
  jobs: number
  inbox: number
  callbacks: number
}

/**
 * An entity's older dead jobs go with the newer job being pruned. They are history — the failures
 * list and retry-dead see only the latest job of each entity — and deleting the newer job alone
 * would make the older dead one the latest again: back among the failures, and replayed.
 */
const deleteHistory = sql`delete from jobs dead using finished
  where dead.state = 'dead' and dead.type = finished.type and dead.entity_id = finished.entity_id
    and dead.id < finished.id`

async function deleteBatches(db: Database, statement: () => ReturnType<typeof sql>): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = (await rows(db, statement())).length
    total += deleted
    if (deleted < BATCH_SIZE) return total
  }
}

/**
 * Keeps the tables from growing without bound: finished jobs (done or replayed), inbox rows and
 * settled callbacks older than the retention period go. Pruning the inbox is safe: a redelivery
 * that old of a contact update is stale by then, and an activity already stored is recognised by
 * its own id.
 */
export async function prune(db: Database, retentionDays: number): Promise<PruneCounts> {
  const cutoffMs = retentionDays * DAY_MS
  const cutoff = sql`now() - ${cutoffMs} * interval '1 millisecond'`
  const jobs = await deleteBatches(
    db,
    () => sql`with finished as (
        select id, type, entity_id from jobs
        where state in ('done', 'replayed') and finished_at < ${cutoff} limit ${BATCH_SIZE}
      ), history as (
        ${deleteHistory}
      )
      delete from jobs where id in (select id from finished) returning id`
  )
  const inbox = await deleteBatches(
    db,
    () => sql`delete from webhook_inbox where webhook_id in (
      select webhook_id from webhook_inbox where received_at < ${cutoff} limit ${BATCH_SIZE})
      returning webhook_id`
  )
  const callbacks = await deleteBatches(
    db,
    () => sql`delete from callback_outbox where id in (
      select id from callback_outbox
      where (delivered_at < ${cutoff} or gave_up_at < ${cutoff}) limit ${BATCH_SIZE}) returning id`
  )
  return { jobs, inbox, callbacks }
}
