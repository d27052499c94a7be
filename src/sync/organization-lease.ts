import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import { type Database, rows } from '../db/database.js'

/** Long enough for a search and a create with their in-line retries and timeouts. */
const LEASE_MS = 60_000
/** How long a contact's job waits for another job's organization before its round fails (retried later). */
const WAIT_MS = 20_000
const POLL_MS = 100

export class OrganizationBusyError extends Error {
  override name = 'OrganizationBusyError'
}

export type OrganizationClaim = { kind: 'known'; pipedriveOrgId: number } | { kind: 'claimed'; token: string }

/**
 * Jobs are serialised per contact, not per organization: two contacts of one organization can
 * sync at once. Before it searches and creates, a job takes the organization's lease; another job
 * waits for the id that one stores (or for the lease to end: released, or expired after a crash).
 */
export async function claimOrganization(
  db: Database,
  organizationId: string,
  signal: AbortSignal
): Promise<OrganizationClaim> {
  const token = randomUUID()
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const [row] = await rows<{ pipedrive_org_id: number | null; claimed: boolean }>(
      db,
      sql`with claim as (
            update organizations set creating_until = now() + ${LEASE_MS} * interval '1 millisecond',
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
 * Stores the organization's Pipedrive id and ends the lease (it is ended as well when the id stays
 * unknown); the contact whose job resolved it gets the id too, in the same statement.
 */
export async function settleOrganization(
  db: Database,
  { organizationId, token, contactId }: { organizationId: string; token: string; contactId: string },
  pipedriveOrgId: number | null
): Promise<void> {
  await db.execute(sql`
    with settled as (
      update organizations set
        pipedrive_org_id = coalesce(pipedrive_org_id, ${pipedriveOrgId}::bigint),
        creating_until = null, creating_token = null, updated_at = now()
      where id = ${organizationId} and creating_token = ${token}::uuid
    )
    update contacts set pipedrive_org_id = coalesce(${pipedriveOrgId}::bigint, pipedrive_org_id)
    where id = ${contactId}`)
}
