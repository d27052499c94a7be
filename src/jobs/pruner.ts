import type { Database } from '../db/database.js'
import { deleteInboxRows } from '../store/intake.js'
import { deleteFinishedJobs } from '../store/jobs.js'
import { deleteSettledCallbacks } from '../store/outbox.js'

const DAY_MS = 24 * 60 * 60 * 1000
/** Deletes in batches so a large backlog never holds long locks or one huge transaction. */
const BATCH_SIZE = 1_000

export interface PruneCounts {
  jobs: number
  inbox: number
  callbacks: number
}

/** Runs `deleteBatch` (deleting up to BATCH_SIZE rows) until a batch comes back short. */
async function deleteBatches(deleteBatch: () => Promise<number>): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = await deleteBatch()
    total += deleted
    if (deleted < BATCH_SIZE) return total
  }
}

/**
 * Keeps the tables from growing without bound: finished jobs (done or replayed, with the older
 * dead jobs of their entity), inbox rows and settled callbacks older than the retention period go.
 * Pruning the inbox is safe: a redelivery that old of a contact update is stale by then, and an
 * activity already stored is recognised by its own id.
 */
export async function prune(db: Database, retentionDays: number): Promise<PruneCounts> {
  const cutoffMs = retentionDays * DAY_MS
  const jobs = await deleteBatches(() => deleteFinishedJobs(db, cutoffMs, BATCH_SIZE))
  const inbox = await deleteBatches(() => deleteInboxRows(db, cutoffMs, BATCH_SIZE))
  const callbacks = await deleteBatches(() => deleteSettledCallbacks(db, cutoffMs, BATCH_SIZE))
  return { jobs, inbox, callbacks }
}
