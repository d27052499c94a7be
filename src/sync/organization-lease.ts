import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import { type Database, rows } from '../db/database.js'
import { JobLeaseLostError, leaseHeld } from '../jobs/job-lease.js'
import type { JobRun } from './deps.js'

/** How long a contact's job waits for another job's organization before its round fails (retried later). */
const WAIT_MS = 20_000
const POLL_MS = 100

export class OrganizationBusyError extends Error {
  override name = 'OrganizationBusyError'
}

export type OrganizationClaim = { kind: 'known'; pipedriveOrgId: number } | { kind: 'claimed'; token: string }

export interface OrganizationLease {
  organizationId: string
  token: string
  contactId: string
}

/**
 * Jobs are serialised per contact, not per organization: two contacts of one organization can
 * sync at once. Before it searches and creates, a job takes the organization's lease; another job
 * waits for the id that one stores (or for the lease to end: released, or lapsed after a crash).
 * The lease is as long as the job's own and is renewed with it (`renewOrganizationWithJob`), so it
 * cannot lapse while a slow search and create with their retries go on; after a crash it ends
 * when the job's lease would.
 */
export async function claimOrganization(
  db: Database,
  organizationId: string,
  { signal, lease }: JobRun
): Promise<OrganizationClaim> {
  const token = randomUUID()
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const [row] = await rows<{ pipedrive_org_id: number | null; claimed: boolean }>(
      db,
      sql`with claim as (
            update organizations set creating_until = now() + ${lease.leaseMs} * interval '1 millisecond',
              creating_token = ${token}::uuid
            where id = ${organizationId} and pipedrive_org_id is null
              and (creating_until is null or creating_until < now())
            returning id
          )
          select pipedrive_org_id, exists (select 1 from claim) as claimed
          from organizations where id = ${organizationId}`
    )
    if (row?.pipedrive_org_id != null) return { kind: 'known', pipedriveOrgId: row.pipedrive_org_id }
    if (row?.claimed) return { kind: 'claimed', token }
    if (!row) throw new Error(`organization ${organizationId} is not stored`)
    if (Date.now() > deadline) {
      throw new OrganizationBusyError(
        `organization ${organizationId} is being created by another job; retrying later`
      )
    }
    await sleep(POLL_MS, undefined, { signal })
  }
}

/**
 * Extends the organization's lease each time the job's own lease is renewed, and only while the
 * job still holds it. Returns the function that stops the renewals.
 */
export function renewOrganizationWithJob(
  db: Database,
  { organizationId, token }: Pick<OrganizationLease, 'organizationId' | 'token'>,
  { lease }: JobRun
): () => void {
  return lease.renewWithJob(() =>
    db.execute(sql`
      update organizations set creating_until = now() + ${lease.leaseMs} * interval '1 millisecond'
      where id = ${organizationId} and creating_token = ${token}::uuid and ${leaseHeld(lease)}`)
  )
}

/**
 * Stores the organization's Pipedrive id and ends the lease (it is ended as well when the id stays
 * unknown); the contact whose job resolved it gets the id too, in the same statement. The
 * organization's row is guarded by the organization's lease (an id stored there is a fact about
 * Pipedrive and never overwrites one), the contact's by the job's: a job that lost its lease
 * stores nothing on its contact and throws JobLeaseLostError.
 */
export async function settleOrganization(
  db: Database,
  { organizationId, token, contactId }: OrganizationLease,
  pipedriveOrgId: number | null,
  { lease }: JobRun
): Promise<void> {
  const updated = await rows(
    db,
    sql`
    with settled as (
      update organizations set
        pipedrive_org_id = coalesce(pipedrive_org_id, ${pipedriveOrgId}::bigint),
        creating_until = null, creating_token = null, updated_at = now()
      where id = ${organizationId} and creating_token = ${token}::uuid
    )
    update contacts set pipedrive_org_id = coalesce(${pipedriveOrgId}::bigint, pipedrive_org_id)
    where id = ${contactId} and ${leaseHeld(lease)}
    returning id`
  )
  if (updated.length === 0) throw new JobLeaseLostError(lease.jobId)
}

/** The contact gets an organization id another job stored (guarded by the job's lease). */
export async function storeKnownOrganization(
  db: Database,
  contactId: string,
  pipedriveOrgId: number,
  { lease }: JobRun
): Promise<void> {
  const updated = await rows(
    db,
    sql`update contacts set pipedrive_org_id = ${pipedriveOrgId}
        where id = ${contactId} and ${leaseHeld(lease)} returning id`
  )
  if (updated.length === 0) throw new JobLeaseLostError(lease.jobId)
}
