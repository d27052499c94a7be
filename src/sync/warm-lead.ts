import { sql } from 'drizzle-orm'
import { addCallback } from '../callbacks/outbox.js'
import { rows } from '../db/database.js'
import { type JobLease, JobLeaseLostError, leaseHeld } from '../jobs/job-lease.js'
import { personLabelId } from '../pipedrive/person-label.js'
import { addLabelToPerson, findPersonByEmail } from '../pipedrive/persons.js'
import { releaseWaitingActivities } from '../store/jobs.js'
import type { JobRun, SyncDeps } from './deps.js'
import { accountFor, pipedriveUserIdFor, type UserRow } from './owner.js'
import { createPersonOnce, operatorDecisionNeeded } from './person-create.js'
import {
  type MarkerColumns,
  markerColumns,
  markerOf,
  type PersonCreateMarker
} from './person-create-marker.js'
import { resolveOrganization } from './warm-lead-organization.js'

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
  /** A person create sent by an earlier round whose outcome was never stored. */
  marker: PersonCreateMarker | null
}

async function loadContact(deps: SyncDeps, contactId: string): Promise<ContactRow | undefined> {
  const [row] = await rows<
    Omit<ContactRow, 'owner_user' | 'marker'> & UserRow & MarkerColumns & { has_user: boolean }
  >(
    deps.db,
    sql`select c.id, c.name, c.email, c.phone, c.warmness_score, c.owner_id, c.owner_email, c.owner_name,
               c.organization_id, c.pipedrive_person_id, c.pipedrive_org_id,
               ${markerColumns(deps.config.SYNC_BACKOFF_BASE_MS)},
               o.name as org_name, o.industry as org_industry, o.country as org_country,
               o.pipedrive_org_id as org_pipedrive_id,
               u.email is not null as has_user, u.pipedrive_user_id, u.api_token_ciphertext,
               u.api_token_iv, u.api_token_tag
        from contacts c left join organizations o on o.id = c.organization_id
          left join users u on u.email = c.owner_email
        where c.id = ${contactId}`
  )
  if (!row) return undefined
  const {
    has_user,
    pipedrive_user_id,
    api_token_ciphertext,
    api_token_iv,
    api_token_tag,
    person_create_sent_at,
    person_create_with_email,
    person_create_recent,
    ...contact
  } = row
  return {
    ...contact,
    owner_user: has_user ? { pipedrive_user_id, api_token_ciphertext, api_token_iv, api_token_tag } : null,
    marker: markerOf({ person_create_sent_at, person_create_with_email, person_create_recent })
  }
}

async function setState(
  deps: SyncDeps,
  lease: JobLease,
  contactId: string,
  state: string,
  note: string | null
): Promise<void> {
  const updated = await rows(
    deps.db,
    sql`update contacts set sync_state = ${state}, warning = ${note}, updated_at = now()
        where id = ${contactId} and ${leaseHeld(lease)} returning id`
  )
  if (updated.length === 0) throw new JobLeaseLostError(lease.jobId)
}

/**
 * Linking is one transaction: the ids, the state, the end of any person-create mark, the
 * activities that waited for this person and, when the link is news to the CRM (not a person id
 * it sent itself), the callback telling it. Nothing of it is written once the job lost its lease.
 */
async function storeLink(
  deps: SyncDeps,
  lease: JobLease,
  contactId: string,
  personId: number,
  orgId: number | null,
  warning: string | null,
  announce: boolean
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const linked = await rows(
      tx,
      sql`update contacts set pipedrive_person_id = ${personId},
            pipedrive_org_id = coalesce(${orgId}::bigint, pipedrive_org_id),
            sync_state = 'synced', last_error = null, person_create_sent_at = null, updated_at = now(),
            -- A link made before keeps the warning of the round that made it.
            warning = case when ${announce} then ${warning} else warning end
          where id = ${contactId} and ${leaseHeld(lease)}
          returning id`
    )
    if (linked.length === 0) throw new JobLeaseLostError(lease.jobId)
    if (announce) {
      await addCallback(tx, deps.config, {
        type: 'pipedrive.person.synced',
        data: { contactId, pipedrivePersonId: personId, pipedriveOrgId: orgId }
      })
    }
    await releaseWaitingActivities(tx, contactId)
  })
  deps.notify()
}

/**
 * The warm-lead sync: organization → owner → label → person, each remote id stored as soon as it
 * exists. Runs inside the contact's job, so one contact is never synced twice at once.
 *
 * Never a second person: a person is found by exact email before one is created, and every create
 * is marked on the contact before it is sent (`person_create_sent_at`), so a crash, an abort, a
 * lost answer or a failed link after it is seen by the next round, which then does not create
 * blindly. With the email the create carried, it looks the person up; a miss within the search
 * grace (see `markerColumns`) fails the round, retried later, as search lags a new record. A
 * create sent without an email cannot be looked up: the job stops for an operator (dead, its
 * lastError saying what to check and how to answer).
 */
export async function syncWarmLead(deps: SyncDeps, contactId: string, run: JobRun): Promise<WarmLeadOutcome> {
  const { lease } = run
  const contact = await loadContact(deps, contactId)
  if (!contact) return { kind: 'missing' }
  if (contact.pipedrive_person_id !== null) {
    // Known person (given by the CRM or linked before): nothing is written to Pipedrive.
    await storeLink(
      deps,
      lease,
      contact.id,
      contact.pipedrive_person_id,
      contact.org_pipedrive_id,
      null,
      false
    )
    return {
      kind: 'synced',
      personId: contact.pipedrive_person_id,
      orgId: contact.pipedrive_org_id,
      warnings: []
    }
  }
  // Before anything else: a create that no email can find again is settled by an operator only.
  if (contact.marker && (!contact.marker.withEmail || contact.email === null)) {
    throw operatorDecisionNeeded(contact.id, lease.jobId)
  }
  if (contact.warmness_score < deps.config.WARM_LEAD_THRESHOLD) {
    await setState(deps, lease, contact.id, 'not_warm', null)
    return { kind: 'not_warm' }
  }
  const choice = await accountFor(deps, contact.owner_email, contact.owner_user)
  if (!choice) {
    const reason = `no Pipedrive token for owner ${contact.owner_email}: set PIPEDRIVE_API_TOKEN or the owner's token with setup-user`
    await setState(deps, lease, contact.id, 'skipped', reason)
    return { kind: 'skipped', reason }
  }
  const { account, ownerUserId } = choice
  const warnings: string[] = []

  const { orgId, stored } = await resolveOrganization(
    deps,
    account,
    {
      contactId: contact.id,
      organizationId: contact.organization_id,
      name: contact.org_name,
      industry: contact.org_industry,
      country: contact.org_country,
      pipedriveOrgId: contact.org_pipedrive_id
    },
    warnings,
    run
  )
  // The organization's id is written while the owner, the label and the person are looked up;
  // it is stored before the person is created or linked.
  let owner: Awaited<ReturnType<typeof pipedriveUserIdFor>>
  let labelId: number
  let existing: Awaited<ReturnType<typeof findPersonByEmail>>
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
      run.signal
    )
    labelId = await personLabelId(account, deps.config.WARM_LEAD_LABEL)
    existing = contact.email
      ? await findPersonByEmail(account, contact.email, { signal: run.signal })
      : undefined
  } finally {
    await stored
  }
  if (owner.warning) warnings.push(owner.warning)

  let personId: number | undefined
  if (existing) {
    // Someone else's person, or ours from a round whose link was lost: link it and add our
    // label, leaving its owner, org and data alone.
    await addLabelToPerson(account, existing.id, labelId, { signal: run.signal })
    personId = existing.id
  } else {
    personId = await createPersonOnce(
      deps,
      account,
      {
        contactId: contact.id,
        email: contact.email,
        marker: contact.marker,
        input: {
          name: contact.name,
          ...(contact.email ? { email: contact.email } : {}),
          ...(contact.phone ? { phone: contact.phone } : {}),
          ...(owner.userId !== null ? { ownerId: owner.userId } : {}),
          ...(orgId !== null ? { orgId } : {}),
          labelIds: [labelId]
        }
      },
      run
    )
    // The CRM sent a person id meanwhile: link that one, as a round starting now would.
    if (personId === undefined) return syncWarmLead(deps, contactId, run)
  }
  for (const warning of warnings) deps.log.warn({ contactId: contact.id }, warning)
  try {
    await storeLink(
      deps,
      lease,
      contact.id,
      personId,
      orgId,
      warnings.length > 0 ? warnings.join('; ') : null,
      true
    )
  } catch (error) {
    if (!existing) {
      // The person exists in Pipedrive and the contact does not know it: its mark makes the next
      // round look it up (or stop for an operator, without an email). Its id helps whoever checks.
      // The error's text is not logged here: a database error carries the statement's values.
      deps.log.error(
        { contactId: contact.id, pipedrivePersonId: personId },
        'person created in Pipedrive but its link was not stored'
      )
    }
    throw error
  }
  return { kind: 'synced', personId, orgId, warnings }
}
