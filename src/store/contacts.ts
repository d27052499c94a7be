import { and, desc, eq, isNotNull, isNull, sql } from 'drizzle-orm'
import type { Executor } from '../db/database.js'
import {
  type ContactSyncState,
  contacts,
  jobs,
  organizations,
  PERSON_SENDING_WITHOUT_EMAIL_STATE,
  users
} from '../db/schema.js'
import type { JobLease } from '../jobs/job-lease.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import { leaseHeld } from './job-leases.js'

const wasWritten = (updated: unknown[]) => updated.length > 0
/**
 * Every write of a sync round refuses a deleted contact: a round in flight when the delete (or
 * the erasure) came writes nothing afterwards, and its handler discards the round.
 */
const notDeleted = isNull(contacts.deletedAt)

/** The contact's latest sync job: the queue's part of its state. */
const latestSyncJob = (db: Executor) =>
  db
    .select({
      state: jobs.state,
      attempts: jobs.attempts,
      startedAt: jobs.startedAt,
      lastError: jobs.lastError
    })
    .from(jobs)
    .where(and(eq(jobs.type, JOB_TYPES.contactSync), eq(jobs.entityId, contacts.id)))
    .orderBy(desc(jobs.id))
    .limit(1)
    .as('job')

/** What the status read model needs: the contact's row and its latest sync job (null: none). */
export async function contactWithLatestJob(db: Executor, contactId: string) {
  const job = latestSyncJob(db)
  const [row] = await db
    .select({
      contact: {
        warmnessScore: contacts.warmnessScore,
        pipedrivePersonId: contacts.pipedrivePersonId,
        pipedriveOrgId: contacts.pipedriveOrgId,
        syncState: contacts.syncState,
        lastError: contacts.lastError,
        warning: contacts.warning,
        deleted: sql<boolean>`${contacts.deletedAt} is not null`,
        erased: sql<boolean>`${contacts.erasedAt} is not null`
      },
      job: { state: job.state, attempts: job.attempts, startedAt: job.startedAt, lastError: job.lastError }
    })
    .from(contacts)
    .leftJoinLateral(job, sql`true`)
    .where(eq(contacts.id, contactId))
  return row
}

/**
 * The contact as a sync round starts from it: its organization (null: none stored), its owner's
 * users row (null: none) and the person-create mark's columns (see `PersonCreateMarker`):
 * `searchGraceMs` is how long after a create a person may still be missing from Pipedrive's search.
 */
export async function loadContactForSync(db: Executor, contactId: string, searchGraceMs: number) {
  const [row] = await db
    .select({
      contact: {
        id: contacts.id,
        name: contacts.name,
        email: contacts.email,
        phone: contacts.phone,
        warmnessScore: contacts.warmnessScore,
        ownerId: contacts.ownerId,
        ownerEmail: contacts.ownerEmail,
        ownerName: contacts.ownerName,
        organizationId: contacts.organizationId,
        pipedrivePersonId: contacts.pipedrivePersonId,
        pipedriveOrgId: contacts.pipedriveOrgId
      },
      organization: {
        name: organizations.name,
        industry: organizations.industry,
        country: organizations.country,
        pipedriveOrgId: organizations.pipedriveOrgId
      },
      ownerUser: {
        email: users.email,
        pipedriveUserId: users.pipedriveUserId,
        apiTokenCiphertext: users.apiTokenCiphertext,
        apiTokenIv: users.apiTokenIv,
        apiTokenTag: users.apiTokenTag
      },
      personCreate: {
        /** ISO 8601 in the database's clock, as it was stored (milliseconds). */
        sentAt: sql<
          string | null
        >`to_char(${contacts.personCreateSentAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
        withEmail: sql<boolean>`${contacts.syncState} <> ${PERSON_SENDING_WITHOUT_EMAIL_STATE}`,
        recent: sql<boolean>`coalesce(${contacts.personCreateSentAt} > now() - ${searchGraceMs} * interval '1 millisecond', false)`
      }
    })
    .from(contacts)
    .leftJoin(organizations, eq(organizations.id, contacts.organizationId))
    .leftJoin(users, eq(users.email, contacts.ownerEmail))
    .where(and(eq(contacts.id, contactId), notDeleted))
  return row
}

/** The handler's state and note, written while the job holds its lease (false: it does not). */
export async function setContactSyncState(
  db: Executor,
  lease: JobLease,
  contactId: string,
  state: ContactSyncState,
  warning: string | null
): Promise<boolean> {
  return wasWritten(
    await db
      .update(contacts)
      .set({ syncState: state, warning, updatedAt: sql`now()` })
      .where(and(eq(contacts.id, contactId), notDeleted, leaseHeld(lease)))
      .returning({ id: contacts.id })
  )
}

export interface PersonLink {
  personId: number
  /** Null keeps the organization id the contact has. */
  orgId: number | null
  warning: string | null
  /** False for a link made before (or a person id the CRM sent): it keeps its round's warning. */
  announce: boolean
}

/** The person's and organization's ids, `synced`, the end of any person-create mark (false: lease lost). */
export async function linkContactPerson(
  db: Executor,
  lease: JobLease,
  contactId: string,
  { personId, orgId, warning, announce }: PersonLink
): Promise<boolean> {
  return wasWritten(
    await db
      .update(contacts)
      .set({
        pipedrivePersonId: personId,
        pipedriveOrgId: sql`coalesce(${orgId}::bigint, ${contacts.pipedriveOrgId})`,
        syncState: 'synced',
        lastError: null,
        personCreateSentAt: null,
        updatedAt: sql`now()`,
        ...(announce ? { warning } : {})
      })
      .where(and(eq(contacts.id, contactId), notDeleted, leaseHeld(lease)))
      .returning({ id: contacts.id })
  )
}

/**
 * The person a round created or found for a contact deleted meanwhile (its link was refused): only
 * the id is kept — nothing personal — so the contact's `person.delete` job, queued behind the
 * round, deletes that person too. False when the contact is not deleted, has a person already, or
 * the job lost its lease.
 */
export async function keepPersonOfDeletedContact(
  db: Executor,
  lease: JobLease,
  contactId: string,
  personId: number
): Promise<boolean> {
  return wasWritten(
    await db
      .update(contacts)
      .set({ pipedrivePersonId: personId, updatedAt: sql`now()` })
      .where(
        and(
          eq(contacts.id, contactId),
          isNotNull(contacts.deletedAt),
          isNull(contacts.pipedrivePersonId),
          leaseHeld(lease)
        )
      )
      .returning({ id: contacts.id })
  )
}

/** The contact's organization id (null keeps the one it has), while the job holds its lease. */
export async function linkContactOrganization(
  db: Executor,
  lease: JobLease,
  contactId: string,
  pipedriveOrgId: number | null
): Promise<boolean> {
  return wasWritten(
    await db
      .update(contacts)
      .set({ pipedriveOrgId: sql`coalesce(${pipedriveOrgId}::bigint, ${contacts.pipedriveOrgId})` })
      .where(and(eq(contacts.id, contactId), notDeleted, leaseHeld(lease)))
      .returning({ id: contacts.id })
  )
}

/**
 * Marks a person create as sent (`state` says whether it carries an email), unless the contact
 * got a person id meanwhile or the job lost its lease: false then (`personLinkedOrLeaseLost` tells which).
 */
export async function markPersonCreateSent(
  db: Executor,
  lease: JobLease,
  contactId: string,
  state: ContactSyncState
): Promise<boolean> {
  return wasWritten(
    await db
      .update(contacts)
      .set({ personCreateSentAt: sql`now()`, updatedAt: sql`now()`, syncState: state })
      .where(
        and(eq(contacts.id, contactId), notDeleted, leaseHeld(lease), isNull(contacts.pipedrivePersonId))
      )
      .returning({ id: contacts.id })
  )
}

/** Whether the contact has a person id and whether the job still holds its lease. */
export async function personLinkedAndLeaseHeld(db: Executor, lease: JobLease, contactId: string) {
  const [row] = await db
    .select({
      linked: sql<boolean>`${contacts.pipedrivePersonId} is not null`,
      held: sql<boolean>`${leaseHeld(lease)}`
    })
    .from(contacts)
    .where(eq(contacts.id, contactId))
  return row
}

/** The person-create mark goes (while the job holds its lease and no person is linked). */
export async function clearPersonCreateSent(db: Executor, lease: JobLease, contactId: string): Promise<void> {
  await db
    .update(contacts)
    .set({ personCreateSentAt: null, syncState: 'pending', updatedAt: sql`now()` })
    .where(and(eq(contacts.id, contactId), notDeleted, leaseHeld(lease), isNull(contacts.pipedrivePersonId)))
}

/** The mark of a create whose outcome was unknown goes, outside any job (an operator's replay). */
export async function forgetPersonCreateSent(db: Executor, contactId: string): Promise<void> {
  await db
    .update(contacts)
    .set({ personCreateSentAt: null, syncState: 'pending', updatedAt: sql`now()` })
    .where(
      and(
        eq(contacts.id, contactId),
        notDeleted,
        isNull(contacts.pipedrivePersonId),
        isNotNull(contacts.personCreateSentAt)
      )
    )
}

/** Whether the CRM deleted the contact. */
export async function isContactDeleted(db: Pick<Executor, 'select'>, contactId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(eq(contacts.id, contactId), isNotNull(contacts.deletedAt)))
  return row !== undefined
}

/** A deleted contact's Pipedrive person id (undefined: none, or the contact is not deleted). */
export async function deletedContactPerson(db: Pick<Executor, 'select'>, contactId: string) {
  const [row] = await db
    .select({ personId: contacts.pipedrivePersonId, ownerEmail: contacts.ownerEmail })
    .from(contacts)
    .where(
      and(eq(contacts.id, contactId), isNotNull(contacts.deletedAt), isNotNull(contacts.pipedrivePersonId))
    )
  return row?.personId == null ? undefined : { personId: row.personId, ownerEmail: row.ownerEmail }
}
