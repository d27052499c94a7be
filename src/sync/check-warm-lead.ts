import { setTimeout as sleep } from 'node:timers/promises'
import type { Database } from '../db/database.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import { enqueue, latestContactSyncState, runContactSyncNow } from '../store/jobs.js'

/** How long check-warm-lead waits for the sync before answering `queued` (docs/interface.md). */
export const CHECK_WAIT_MS = 5_000
const POLL_INTERVAL_MS = 50

/**
 * Puts the contact's sync at the front: a retrying job runs now, a dead one is queued again, and
 * otherwise a job is added. The work itself still runs in the queue, so it never races a queued
 * job of the same contact (here or in another process).
 */
export async function queueContactSyncNow(db: Database, contactId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await runContactSyncNow(tx, contactId)
    await enqueue(tx, { type: JOB_TYPES.contactSync, entityId: contactId, serialKey: contactId })
  })
}

/**
 * Waits until the contact's latest job has finished a round (done, retrying or dead), until
 * `timeoutMs`, or until `giveUp()` says waiting is pointless (Pipedrive looks down). Returns whether
 * it finished. Polls the database, so a job run by another instance counts.
 */
export async function waitForContactSync(
  db: Database,
  contactId: string,
  timeoutMs: number,
  giveUp: () => boolean = () => false
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const state = await latestContactSyncState(db, contactId)
    if (state !== 'pending' && state !== 'running') return true
    if (Date.now() >= deadline || giveUp()) return false
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())))
  }
}
