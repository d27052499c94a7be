import { eq, sql } from 'drizzle-orm'
import type { Database, Executor } from '../db/database.js'
import { organizations } from '../db/schema.js'
import type { JobLease } from '../jobs/job-lease.js'
import { linkContactOrganization } from './contacts.js'
import { organizationLeaseName, releaseLease } from './leases.js'

export type Organization = typeof organizations.$inferSelect

/** The organization's Pipedrive id as stored now; undefined when the organization is not stored. */
export async function storedOrganizationId(
  db: Executor,
  organizationId: string
): Promise<Pick<Organization, 'pipedriveOrgId'> | undefined> {
  const [row] = await db
    .select({ pipedriveOrgId: organizations.pipedriveOrgId })
    .from(organizations)
    .where(eq(organizations.id, organizationId))
  return row
}

export interface OrganizationSettlement {
  organizationId: string
  /** The organization lease's holder token. */
  token: string
  contactId: string
  /** Null when the id stayed unknown: only the lease ends. */
  pipedriveOrgId: number | null
}

/**
 * One transaction: the organization lease ends and, only if `token` still held it, the
 * organization gets the id (never overwriting one); the contact gets it too unless the job lost
 * its lease. The lease row is locked first, so a job taking the lease over either sees it ended
 * with the id stored or keeps the id from being written. False when the contact's write found the
 * job's lease gone (the organization's part is committed all the same).
 */
export async function settleOrganizationLease(
  db: Database,
  { organizationId, token, contactId, pipedriveOrgId }: OrganizationSettlement,
  lease: JobLease
): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (await releaseLease(tx, organizationLeaseName(organizationId), token)) {
      await tx
        .update(organizations)
        .set({
          pipedriveOrgId: sql`coalesce(${organizations.pipedriveOrgId}, ${pipedriveOrgId}::bigint)`,
          updatedAt: sql`now()`
        })
        .where(eq(organizations.id, organizationId))
    }
    return linkContactOrganization(tx, lease, contactId, pipedriveOrgId)
  })
}
