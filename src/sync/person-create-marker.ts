import { type SQL, sql } from 'drizzle-orm'
import { type Executor, rows } from '../db/database.js'
import { type JobLease, JobLeaseLostError, leaseHeld } from '../jobs/job-lease.js'
import { JOB_TYPES } from '../jobs/job-types.js'

/**
 * `contacts.sync_state` while a person create may have been sent, beyond the status model's
 * values (it shows them as `pending`, or the job's `retrying`/`dead`). Which one says whether the
 * create carried an email: only then can a later round look the person up — the contact's email
 * may have been added since, and a look-up by it would miss a person created without one.
 */
export const PERSON_SENDING_STATE = 'sending_person'
export const PERSON_SENDING_WITHOUT_EMAIL_STATE = 'sending_person_without_email'

/** The marker as a round reads it at its start. */
export interface PersonCreateMarker {
  /** When the create was sent (ISO 8601, the database's clock). */
  sentAt: string
  withEmail: boolean
  /** Sent within the search grace: a person it made may not be searchable yet. */
  recent: boolean
}

/**
 * The marker's columns for a select on `contacts c` (read with `markerOf`). `searchGraceMs`: how
 * long after a create a person may still be missing from Pipedrive's search (its index lags a new
 * record). Within it, a round that does not find the person fails (retried later) instead of
 * creating it again. The service uses SYNC_BACKOFF_BASE_MS, the pause it leaves Pipedrive between
 * rounds anyway (30 s by default): the first retry (0.8–1× that later) usually still falls within
 * it, so the person is looked for at least twice, the last time after the grace, before a second
 * create.
 */
export function markerColumns(searchGraceMs: number): SQL {
  return sql`to_char(c.person_create_sent_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      as person_create_sent_at,
    c.sync_state <> ${PERSON_SENDING_WITHOUT_EMAIL_STATE} as person_create_with_email,
    coalesce(c.person_create_sent_at > now() - ${searchGraceMs} * interval '1 millisecond', false)
      as person_create_recent`
}

export interface MarkerColumns {
  person_create_sent_at: string | null
  person_create_with_email: boolean
  person_create_recent: boolean
}

export function markerOf(row: MarkerColumns): PersonCreateMarker | null {
  if (row.person_create_sent_at === null) return null
  return {
    sentAt: row.person_create_sent_at,
    withEmail: row.person_create_with_email,
    recent: row.person_create_recent
  }
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
  const [row] = await rows<{ id: string }>(
    db,
    sql`update contacts set person_create_sent_at = now(), updated_at = now(),
          sync_state = ${withEmail ? PERSON_SENDING_STATE : PERSON_SENDING_WITHOUT_EMAIL_STATE}
        where id = ${contactId} and ${leaseHeld(lease)} and pipedrive_person_id is null
        returning id`
  )
  if (row) return 'marked'
  const [contact] = await rows<{ linked: boolean; held: boolean }>(
    db,
    sql`select pipedrive_person_id is not null as linked, ${leaseHeld(lease)} as held
        from contacts where id = ${contactId}`
  )
  if (!contact?.held) throw new JobLeaseLostError(lease.jobId)
  return 'linked'
}

/** The create certainly made nothing (refused before it was processed): the marker goes. */
export async function clearPersonCreateSent(db: Executor, lease: JobLease, contactId: string): Promise<void> {
  await db.execute(sql`
    update contacts set person_create_sent_at = null, sync_state = 'pending', updated_at = now()
    where id = ${contactId} and ${leaseHeld(lease)} and pipedrive_person_id is null`)
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
  await tx.execute(sql`
    update contacts set person_create_sent_at = null, sync_state = 'pending', updated_at = now()
    where id = ${job.entityId} and pipedrive_person_id is null and person_create_sent_at is not null`)
}
