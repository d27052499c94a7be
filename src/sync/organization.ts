import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Database } from '../db/database.js'
import { JobLeaseLostError } from '../jobs/job-lease.js'
import type { PipedriveAccount } from '../pipedrive/account.js'
import { createOrganization, findOrganizationByName } from '../pipedrive/organizations.js'
import { linkContactOrganization } from '../store/contacts.js'
import { organizationLeaseName, releaseLease, renewLease, takeLease } from '../store/leases.js'
import { settleOrganizationLease, storedOrganizationId } from '../store/organizations.js'
import type { JobRun, SyncDeps } from './deps.js'

export interface OrganizationOfContact {
  contactId: string
  organizationId: string | null
  name: string | null
  industry: string | null
  country: string | null
  pipedriveOrgId: number | null
}

export interface ResolvedOrganization {
  orgId: number | null
  /**
   * The write that stores the id (and ends the lease), still running: the caller awaits it before
   * it creates or links the person, so a failure later in the round never creates the
   * organization again.
   */
  stored: Promise<unknown>
}

const NOTHING_TO_STORE = Promise.resolve()

/** Lets a write run on while the caller does other work; awaiting it later still throws. */
function inBackground<T>(write: Promise<T>): Promise<T> {
  write.catch(() => {})
  return write
}

/**
 * Step 1: a known id, else the organization with exactly this name, else a new one — under the
 * organization's lease (other contacts of it may be syncing right now), renewed with the job's.
 */
export async function resolveOrganization(
  deps: SyncDeps,
  account: PipedriveAccount,
  organization: OrganizationOfContact,
  warnings: string[],
  run: JobRun
): Promise<ResolvedOrganization> {
  const { contactId, organizationId, name } = organization
  if (organizationId === null || name === null) return { orgId: null, stored: NOTHING_TO_STORE }
  if (organization.pipedriveOrgId !== null)
    return { orgId: organization.pipedriveOrgId, stored: NOTHING_TO_STORE }
  const claim = await claimOrganization(deps.db, organizationId, run)
  if (claim.kind === 'known') {
    const orgId = claim.pipedriveOrgId
    return { orgId, stored: inBackground(storeKnownOrganization(deps.db, contactId, orgId, run)) }
  }
  const lease = { organizationId, token: claim.token, contactId }
  const stopRenewing = renewOrganizationWithJob(deps.db, lease, run)
  let orgId: number
  try {
    const found = await findOrganizationByName(account, name, { signal: run.signal })
    if (found) {
      orgId = found.id
    } else {
      const created = await createOrganization(
        account,
        {
          name,
          ...(organization.industry ? { industry: organization.industry } : {}),
          ...(organization.country ? { country: organization.country } : {})
        },
        { signal: run.signal }
      )
      orgId = created.id
      warnings.push(...created.warnings)
    }
  } catch (error) {
    stopRenewing()
    await settleOrganization(deps.db, lease, null, run)
    throw error
  }
  stopRenewing()
  return { orgId, stored: inBackground(settleOrganization(deps.db, lease, orgId, run)) }
}

/** How long a contact's job waits for another job's organization before its round fails (retried later). */
const WAIT_MS = 20_000
const POLL_MS = 100

class OrganizationBusyError extends Error {
  override name = 'OrganizationBusyError'
}

type OrganizationClaim = { kind: 'known'; pipedriveOrgId: number } | { kind: 'claimed'; token: string }

interface OrganizationLease {
  organizationId: string
  token: string
  contactId: string
}

/**
 * Jobs are serialised per contact, not per organization: two contacts of one organization can
 * sync at once. Before it searches and creates, a job takes the organization's named lease
 * (`organization:<id>` in the leases table); another job waits for the id that one stores (or for
 * the lease to end: released, or lapsed after a crash). The lease is as long as the job's own and
 * is renewed with it (`renewOrganizationWithJob`), so it cannot lapse while a slow search and
 * create with their retries go on; after a crash it ends when the job's lease would.
 */
async function claimOrganization(
  db: Database,
  organizationId: string,
  { signal, lease }: JobRun
): Promise<OrganizationClaim> {
  const token = randomUUID()
  const name = organizationLeaseName(organizationId)
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const stored = await storedOrganizationId(db, organizationId)
    if (!stored) throw new Error(`organization ${organizationId} is not stored`)
    if (stored.pipedriveOrgId !== null) return { kind: 'known', pipedriveOrgId: stored.pipedriveOrgId }
    if (await takeLease(db, name, token, lease.leaseMs)) {
      // The lease may have been free because its holder had just stored the id and ended it (in one
      // transaction, committed before the take): read again, the id is visible now if so.
      const after = await storedOrganizationId(db, organizationId)
      if (after?.pipedriveOrgId == null) return { kind: 'claimed', token }
      await releaseLease(db, name, token)
      return { kind: 'known', pipedriveOrgId: after.pipedriveOrgId }
    }
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
function renewOrganizationWithJob(
  db: Database,
  { organizationId, token }: Pick<OrganizationLease, 'organizationId' | 'token'>,
  { lease }: JobRun
): () => void {
  return lease.renewWithJob(() =>
    renewLease(db, organizationLeaseName(organizationId), token, lease.leaseMs, lease)
  )
}

/**
 * Stores the organization's Pipedrive id and ends the lease (it is ended as well when the id stays
 * unknown); the contact whose job resolved it gets the id too, in the same transaction. The
 * organization's row is guarded by the organization's lease (an id stored there is a fact about
 * Pipedrive and never overwrites one), the contact's by the job's: a job that lost its lease
 * stores nothing on its contact and throws JobLeaseLostError.
 */
async function settleOrganization(
  db: Database,
  { organizationId, token, contactId }: OrganizationLease,
  pipedriveOrgId: number | null,
  { lease }: JobRun
): Promise<void> {
  const stored = await settleOrganizationLease(
    db,
    { organizationId, token, contactId, pipedriveOrgId },
    lease
  )
  if (!stored) throw new JobLeaseLostError(lease.jobId)
}

/** The contact gets an organization id another job stored (guarded by the job's lease). */
async function storeKnownOrganization(
  db: Database,
  contactId: string,
  pipedriveOrgId: number,
  { lease }: JobRun
): Promise<void> {
  if (!(await linkContactOrganization(db, lease, contactId, pipedriveOrgId))) {
    throw new JobLeaseLostError(lease.jobId)
  }
}
