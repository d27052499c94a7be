import { sql } from 'drizzle-orm'
import { addCallback } from '../callbacks/outbox.js'
import { rows } from '../db/database.js'
import type { PipedriveAccount } from '../pipedrive/account.js'
import type { SyncDeps } from './deps.js'
import { claimOrganization, settleOrganization } from './organization-lease.js'
import { accountFor, pipedriveUserIdFor, type UserRow } from './owner.js'
import { releaseWaitingActivities } from './waiting-activities.js'

export type WarmLeadOutcome =
  | { kind: 'missing' }
  | { kind: 'not_warm' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'synced'; personId: number; orgId: number | null; warnings: string[] }

interface ContactRow {
  id: string
  name: string
  email: string | null
  phone: string | null
  warmness_score: number
  owner_id: string
  owner_email: string
  owner_name: string | null
  organization_id: string | null
  pipedrive_person_id: number | null
  pipedrive_org_id: number | null
  org_name: string | null
  org_industry: string | null
  org_country: string | null
  org_pipedrive_id: number | null
  /** The owner's users row, null when there is none (read here: one query fewer per sync). */
  owner_user: UserRow | null
}

async function loadContact(deps: SyncDeps, contactId: string): Promise<ContactRow | undefined> {
  const [row] = await rows<Omit<ContactRow, 'owner_user'> & UserRow & { has_user: boolean }>(
    deps.db,
    sql`select c.id, c.name, c.email, c.phone, c.warmness_score, c.owner_id, c.owner_email, c.owner_name,
               c.organization_id, c.pipedrive_person_id, c.pipedrive_org_id,
               o.name as org_name, o.industry as org_industry, o.country as org_country,
               o.pipedrive_org_id as org_pipedrive_id,
               u.email is not null as has_user, u.pipedrive_user_id, u.api_token_ciphertext,
               u.api_token_iv, u.api_token_tag
        from contacts c left join organizations o on o.id = c.organization_id
          left join users u on u.email = c.owner_email
        where c.id = ${contactId}`
  )
  if (!row) return undefined
  const { has_user, pipedrive_user_id, api_token_ciphertext, api_token_iv, api_token_tag, ...contact } = row
  return {
    ...contact,
    owner_user: has_user ? { pipedrive_user_id, api_token_ciphertext, api_token_iv, api_token_tag } : null
  }
}

async function setState(
  deps: SyncDeps,
  contactId: string,
  state: string,
  note: string | null
): Promise<void> {
  await deps.db.execute(sql`
    update contacts set sync_state = ${state}, warning = ${note}, updated_at = now() where id = ${contactId}`)
}

/**
 * Linking is one transaction: the ids, the state, the activities that waited for this person and,
 * when the link is news to the CRM (not a person id it sent itself), the callback telling it.
 */
async function storeLink(
  deps: SyncDeps,
  contactId: string,
  personId: number,
  orgId: number | null,
  warning: string | null,
  announce: boolean
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    if (announce) {
      await addCallback(tx, deps.config, {
        type: 'pipedrive.person.synced',
        data: { contactId, pipedrivePersonId: personId, pipedriveOrgId: orgId }
      })
    }
    await tx.execute(sql`
      update contacts set pipedrive_person_id = ${personId},
        pipedrive_org_id = coalesce(${orgId}::bigint, pipedrive_org_id),
        sync_state = 'synced', last_error = null, updated_at = now(),
        -- A link made before keeps the warning of the round that made it.
        warning = case when ${announce} then ${warning} else warning end
      where id = ${contactId}`)
    await releaseWaitingActivities(tx, contactId)
  })
  deps.notify()
}

interface ResolvedOrganization {
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
 * organization's lease (other contacts of it may be syncing right now).
 */
async function resolveOrganization(
  deps: SyncDeps,
  account: PipedriveAccount,
  contact: ContactRow,
  warnings: string[],
  signal: AbortSignal
): Promise<ResolvedOrganization> {
  if (contact.organization_id === null || contact.org_name === null)
    return { orgId: null, stored: NOTHING_TO_STORE }
  if (contact.org_pipedrive_id !== null) return { orgId: contact.org_pipedrive_id, stored: NOTHING_TO_STORE }
  const claim = await claimOrganization(deps.db, contact.organization_id, signal)
  if (claim.kind === 'known') {
    const orgId = claim.pipedriveOrgId
    const stored = deps.db.execute(
      sql`update contacts set pipedrive_org_id = ${orgId} where id = ${contact.id}`
    )
    return { orgId, stored: inBackground(stored) }
  }
  const lease = { organizationId: contact.organization_id, token: claim.token, contactId: contact.id }
  let orgId: number
  try {
    const found = await account.findOrganizationByName(contact.org_name, { signal })
    if (found) {
      orgId = found.id
    } else {
      const created = await account.createOrganization(
        {
          name: contact.org_name,
          ...(contact.org_industry ? { industry: contact.org_industry } : {}),
          ...(contact.org_country ? { country: contact.org_country } : {})
        },
        { signal }
      )
      orgId = created.id
      warnings.push(...created.warnings)
    }
  } catch (error) {
    await settleOrganization(deps.db, lease, null)
    throw error
  }
  return { orgId, stored: inBackground(settleOrganization(deps.db, lease, orgId)) }
}

/**
 * Feature 1 (CONTRACT §2): organization → owner → label → person, each remote id stored as soon
 * as it exists. Runs inside the contact's job, so one contact is never synced twice at once. A
 * person is found by exact email before one is created; a contact without email cannot be looked
 * up, and duplicates are then ruled out by the stored mapping (checked first, every round) and the
 * per-contact serialisation — and a create whose outcome is unknown is not repeated (the job dies
 * for an operator to check).
 */
export async function syncWarmLead(
  deps: SyncDeps,
  contactId: string,
  signal: AbortSignal
): Promise<WarmLeadOutcome> {
  const contact = await loadContact(deps, contactId)
  if (!contact) return { kind: 'missing' }
  if (contact.pipedrive_person_id !== null) {
    // Known person (given by the CRM or linked before): nothing is written to Pipedrive.
    await storeLink(deps, contact.id, contact.pipedrive_person_id, contact.org_pipedrive_id, null, false)
    return {
      kind: 'synced',
      personId: contact.pipedrive_person_id,
      orgId: contact.pipedrive_org_id,
      warnings: []
    }
  }
  if (contact.warmness_score < deps.config.WARM_LEAD_THRESHOLD) {
    await setState(deps, contact.id, 'not_warm', null)
    return { kind: 'not_warm' }
  }
  const choice = await accountFor(deps, contact.owner_email, contact.owner_user)
  if (!choice) {
    const reason = `no Pipedrive token for owner ${contact.owner_email}: set PIPEDRIVE_API_TOKEN or the owner's token with setup-user`
    await setState(deps, contact.id, 'skipped', reason)
    return { kind: 'skipped', reason }
  }
  const { account, ownerUserId } = choice
  const warnings: string[] = []

  const { orgId, stored } = await resolveOrganization(deps, account, contact, warnings, signal)
  // The organization's id is written while the owner, the label and the person are looked up;
  // it is stored before the person is created or linked.
  let owner: Awaited<ReturnType<typeof pipedriveUserIdFor>>
  let labelId: number
  let existing: Awaited<ReturnType<PipedriveAccount['findPersonByEmail']>>
  try {
    owner = await pipedriveUserIdFor(
      deps,
      account,
      {
        email: contact.owner_email,
        id: contact.owner_id,
        name: contact.owner_name,
        pipedriveUserId: ownerUserId
      },
      signal
    )
    labelId = await account.labelId(deps.config.WARM_LEAD_LABEL)
    existing = contact.email ? await account.findPersonByEmail(contact.email, { signal }) : undefined
  } finally {
    await stored
  }
  if (owner.warning) warnings.push(owner.warning)

  let personId: number | undefined
  if (existing) {
    // Someone else's person: link it and add our label, leaving its owner, org and data alone.
    await account.addLabelToPerson(existing.id, labelId, { signal })
    personId = existing.id
  }
  if (personId === undefined) {
    const created = await account.createPerson(
      {
        name: contact.name,
        ...(contact.email ? { email: contact.email } : {}),
        ...(contact.phone ? { phone: contact.phone } : {}),
        ...(owner.userId !== null ? { ownerId: owner.userId } : {}),
        ...(orgId !== null ? { orgId } : {}),
        labelIds: [labelId]
      },
      { signal }
    )
    personId = created.id
  }
  for (const warning of warnings) deps.log.warn({ contactId: contact.id }, warning)
  await storeLink(deps, contact.id, personId, orgId, warnings.length > 0 ? warnings.join('; ') : null, true)
  return { kind: 'synced', personId, orgId, warnings }
}
