import { and, desc, eq, inArray, isNotNull, isNull, ne, sql } from 'drizzle-orm'
import type { Database, Executor } from '../db/database.js'
import {
  ACTIVITY_SENDING_STATE,
  type ActivityPushedField,
  activities,
  contacts,
  jobs,
  organizations,
  type PushedActivity
} from '../db/schema.js'
import { type JobLease, requireLease, writtenUnderLease } from '../jobs/job-lease.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import { leaseHeld } from './job-leases.js'

/** The activity row as replication reads and writes it. */
export type ActivityRow = typeof activities.$inferSelect

/** Replication's writes refuse a deleted activity (or one of a deleted contact): nothing is written afterwards. */
const notDeleted = isNull(activities.deletedAt)
/** The WHERE of a replication round's write: the activity is still to be created, by this job. */
const notReplicatedYet = (activityId: string, lease: JobLease) =>
  and(
    eq(activities.id, activityId),
    eq(activities.replicatedToPipedrive, false),
    notDeleted,
    leaseHeld(lease)
  )

const contactLink = {
  pipedrivePersonId: contacts.pipedrivePersonId,
  ownerId: contacts.ownerId,
  ownerEmail: contacts.ownerEmail,
  ownerName: contacts.ownerName
}

export type ContactLink = Pick<typeof contacts.$inferSelect, keyof typeof contactLink>

export interface ReplicationSubject {
  activity: ActivityRow
  /** Null when the CRM sent the activity before (or without) its contact. */
  contact: ContactLink | null
  /**
   * The contact's organization in Pipedrive: linked by the warm-lead sync, else the id the CRM
   * gave with the organization (stored before that sync has run).
   */
  pipedriveOrgId: number | null
}

export async function loadReplicationSubject(
  db: Executor,
  activityId: string
): Promise<ReplicationSubject | undefined> {
  const [row] = await db
    .select({
      activity: activities,
      contact: contactLink,
      pipedriveOrgId: sql<
        number | null
      >`coalesce(${contacts.pipedriveOrgId}, ${organizations.pipedriveOrgId})`.mapWith(Number)
    })
    .from(activities)
    .leftJoin(contacts, eq(contacts.id, activities.contactId))
    .leftJoin(organizations, eq(organizations.id, contacts.organizationId))
    .where(eq(activities.id, activityId))
  return row
}

/**
 * Parks the activity until its contact gets a person. The contact row is locked (share) first:
 * the warm-lead sync updates that row in the transaction that releases waiting activities, so
 * either it committed before (we see the person and go on) or it waits for us and then finds
 * this activity waiting. Without the lock, a person linked between our read and our write would
 * leave the activity waiting forever. False when the person arrived meanwhile (not parked).
 */
export async function parkUntilPerson(
  db: Database,
  lease: JobLease,
  activityId: string,
  contactId: string
): Promise<boolean> {
  return db.transaction(async (tx) => {
    await requireLease(tx, lease)
    const [contact] = await tx
      .select({ pipedrivePersonId: contacts.pipedrivePersonId })
      .from(contacts)
      .where(eq(contacts.id, contactId))
      .for('share')
    if (contact?.pipedrivePersonId != null) return false
    await tx
      .update(activities)
      .set({ state: 'waiting_for_person', updatedAt: sql`now()` })
      .where(and(eq(activities.id, activityId), eq(activities.replicatedToPipedrive, false), notDeleted))
    return true
  })
}

export async function markSkipped(
  db: Executor,
  lease: JobLease,
  activityId: string,
  reason: string
): Promise<void> {
  await db
    .update(activities)
    .set({ state: 'skipped', lastError: reason, updatedAt: sql`now()` })
    .where(notReplicatedYet(activityId, lease))
}

/**
 * False when the activity was replicated or deleted meanwhile (nothing may be sent then); throws
 * JobLeaseLostError when the job lost its lease (nothing may be sent either).
 */
export async function markSending(db: Executor, lease: JobLease, activityId: string): Promise<boolean> {
  const updated = await db
    .update(activities)
    .set({ state: ACTIVITY_SENDING_STATE, updatedAt: sql`now()` })
    .where(notReplicatedYet(activityId, lease))
    .returning({ id: activities.id })
  return writtenUnderLease(db, lease, updated)
}

/** One create call sent (every call counts, refused connections and retries too: docs/sync.md). */
export async function recordCreateAttempt(db: Executor, activityId: string, at: Date): Promise<void> {
  await db
    .update(activities)
    .set({
      pipedriveSyncAttempts: sql`${activities.pipedriveSyncAttempts} + 1`,
      lastPipedriveSyncAttempt: sql`greatest(${activities.lastPipedriveSyncAttempt}, ${at.toISOString()}::timestamptz)`
    })
    .where(eq(activities.id, activityId))
}

/**
 * Id, replicated flag, state and the fields sent (`pushed`) in one statement. False when another run stored an id first:
 * the caller reports it (the guard keeps the first id; it never overwrites). Throws
 * JobLeaseLostError, writing nothing, when the job lost its lease.
 */
export async function storeReplica(
  db: Executor,
  lease: JobLease,
  activityId: string,
  pipedriveActivityId: number,
  warning: string | null,
  pushed: PushedActivity
): Promise<boolean> {
  const updated = await db
    .update(activities)
    .set({
      pipedriveActivityId,
      replicatedToPipedrive: true,
      pushed,
      state: 'synced',
      lastError: null,
      warning,
      updatedAt: sql`now()`
    })
    .where(notReplicatedYet(activityId, lease))
    .returning({ id: activities.id })
  return writtenUnderLease(db, lease, updated)
}

/** A PATCH went through: what Pipedrive now holds, and which fields it carried. False for a deleted activity (nothing written); throws JobLeaseLostError. */
export async function storePushed(
  db: Executor,
  lease: JobLease,
  activityId: string,
  pushed: PushedActivity,
  fields: ActivityPushedField[]
): Promise<boolean> {
  const updated = await db
    .update(activities)
    .set({ pushed, pushedFields: fields, updatedAt: sql`now()` })
    .where(and(eq(activities.id, activityId), notDeleted, leaseHeld(lease)))
    .returning({ id: activities.id })
  return writtenUnderLease(db, lease, updated)
}

/** The delete is done (in Pipedrive, or nothing to do there). Throws JobLeaseLostError, writing nothing. */
export async function markDeleted(db: Executor, lease: JobLease, activityId: string): Promise<void> {
  const updated = await db
    .update(activities)
    .set({ state: 'deleted', lastError: null, updatedAt: sql`now()` })
    .where(and(eq(activities.id, activityId), leaseHeld(lease)))
    .returning({ id: activities.id })
  await writtenUnderLease(db, lease, updated)
}

/** Which of these Pipedrive activities already belong to another of our activities. */
export async function claimedElsewhere(
  db: Executor,
  pipedriveActivityIds: number[],
  activityId: string
): Promise<Set<number>> {
  if (pipedriveActivityIds.length === 0) return new Set()
  const claimed = await db
    .select({ id: activities.pipedriveActivityId })
    .from(activities)
    .where(and(inArray(activities.pipedriveActivityId, pipedriveActivityIds), ne(activities.id, activityId)))
  return new Set(claimed.flatMap((row) => (row.id === null ? [] : [row.id])))
}

/** What the status read model needs: the activity's row and its latest replication job (null: none). */
export async function activityWithLatestJob(db: Executor, activityId: string) {
  const job = db
    .select({ state: jobs.state, lastError: jobs.lastError })
    .from(jobs)
    .where(and(eq(jobs.type, JOB_TYPES.activityReplicate), eq(jobs.entityId, activities.id)))
    .orderBy(desc(jobs.id))
    .limit(1)
    .as('job')
  const [row] = await db
    .select({
      activity: {
        pipedriveActivityId: activities.pipedriveActivityId,
        replicatedToPipedrive: activities.replicatedToPipedrive,
        pipedriveSyncAttempts: activities.pipedriveSyncAttempts,
        lastPipedriveSyncAttempt: activities.lastPipedriveSyncAttempt,
        state: activities.state,
        lastError: activities.lastError,
        warning: activities.warning,
        pushedFields: activities.pushedFields
      },
      job: { state: job.state, lastError: job.lastError }
    })
    .from(activities)
    .leftJoinLateral(job, sql`true`)
    .where(eq(activities.id, activityId))
  return row
}

/** Whether the activity was deleted (by the CRM, or with its contact). */
export async function isActivityDeleted(db: Pick<Executor, 'select'>, activityId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: activities.id })
    .from(activities)
    .where(and(eq(activities.id, activityId), isNotNull(activities.deletedAt)))
  return row !== undefined
}
