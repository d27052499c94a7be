import type { Config } from '../config.js'
import type { Executor } from '../db/database.js'
import { PERSON_SENDING_STATE, PERSON_SENDING_WITHOUT_EMAIL_STATE } from '../db/schema.js'
import { type JobLease, JobLeaseLostError } from '../jobs/job-lease.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import {
  forgetPersonCreateSent,
  markPersonCreateSent as markSent,
  personLinkedAndLeaseHeld
} from '../store/contacts.js'

/** The marker as a round reads it at its start. */
export interface PersonCreateMarker {
  /** When the create was sent (ISO 8601, the database's clock). */
  sentAt: string
  withEmail: boolean
  /** Sent within the search grace: a person it made may not be searchable yet. */
  recent: boolean
}

/**
 * How long after a create a person may still be missing from Pipedrive's search (its index lags a
 * new record). Within it, a round that does not find the person fails (retried later) instead of
 * creating it again. The service uses SYNC_BACKOFF_BASE_MS, the pause it leaves Pipedrive between
 * rounds anyway (30 s by default): the first retry (0.8–1× that later) usually still falls within
 * it, so the person is looked for at least twice, the last time after the grace, before a second
 * create.
 */
export const personSearchGraceMs = (config: Pick<Config, 'SYNC_BACKOFF_BASE_MS'>) =>
  config.SYNC_BACKOFF_BASE_MS

/** The marker from the contact's columns as `loadContactForSync` reads them (null: no create pending). */
export function markerOf(columns: {
  sentAt: string | null
  withEmail: boolean
  recent: boolean
}): PersonCreateMarker | null {
  if (columns.sentAt === null) return null
  return { sentAt: columns.sentAt, withEmail: columns.withEmail, recent: columns.recent }
}

/**
 * Written just before the create is sent, so a crash, an abort or a lost answer after it leaves a
 * trace the next round sees. 'linked' when a person id arrived meanwhile (the CRM sent one): then
 * nothing may be created.
 */
export async function markPersonCreateSent(
  db: Executor,
  lease: JobLease,
  contactId: string,
  withEmail: boolean
): Promise<'marked' | 'linked'> {
  const state = withEmail ? PERSON_SENDING_STATE : PERSON_SENDING_WITHOUT_EMAIL_STATE
  if (await markSent(db, lease, contactId, state)) return 'marked'
  const contact = await personLinkedAndLeaseHeld(db, lease, contactId)
  if (!contact?.held) throw new JobLeaseLostError(lease.jobId)
  return 'linked'
}

/**
 * An operator replaying a contact's dead job one by one (`POST /api/sync/jobs/:jobId/retry`) has
 * checked Pipedrive and found no person: the mark of a create whose outcome was unknown goes, and
 * the replay creates the person. A bulk replay (retry-dead) is no such check: it keeps the mark.
 * Runs in the replay's transaction.
 */
export async function acceptUnknownPersonCreate(
  tx: Executor,
  job: { type: string; entityId: string }
): Promise<void> {
  if (job.type !== JOB_TYPES.contactSync) return
  await forgetPersonCreateSent(tx, job.entityId)
}
