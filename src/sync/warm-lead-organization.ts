import type { PipedriveAccount } from '../pipedrive/account.js'
import { createOrganization, findOrganizationByName } from '../pipedrive/organizations.js'
import type { JobRun, SyncDeps } from './deps.js'
import {
  claimOrganization,
  renewOrganizationWithJob,
  settleOrganization,
  storeKnownOrganization
} from './organization-lease.js'

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
