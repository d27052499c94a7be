import { addCallback } from '../callbacks/outbox.js'
import type { ContactSyncState } from '../db/schema.js'
import { type JobLease, JobLeaseLostError } from '../jobs/job-lease.js'
import { personLabelId } from '../pipedrive/person-label.js'
import { addLabelToPerson, findPersonByEmail } from '../pipedrive/persons.js'
import {
  keepPersonOfDeletedContact,
  linkContactPerson,
  loadContactForSync,
  setContactSyncState
} from '../store/contacts.js'
import { releaseWaitingActivities } from '../store/jobs.js'
import type { JobRun, SyncDeps } from './deps.js'
import { resolveOrganization } from './organization.js'
import { accountFor, pipedriveUserIdFor } from './owner.js'
import { createPersonOnce, markerOf, operatorDecisionNeeded, personSearchGraceMs } from './person-create.js'

export type WarmLeadOutcome =
  | { kind: 'missing' }
  | { kind: 'not_warm' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'synced'; personId: number; orgId: number | null; warnings: string[] }

/**
 * The contact, its organization (null: none stored), its owner's users row (null: none; read
 * here, one query fewer per sync) and a person create sent by an earlier round whose outcome was
 * never stored (null: none).
 */
async function loadContact(deps: SyncDeps, contactId: string) {
  const row = await loadContactForSync(deps.db, contactId, personSearchGraceMs(deps.config))
  if (!row) return undefined
  return {
    ...row.contact,
    organization: row.organization,
    ownerUser: row.ownerUser,
    marker: markerOf(row.personCreate)
  }
}

async function setState(
  deps: SyncDeps,
  lease: JobLease,
  contactId: string,
  state: ContactSyncState,
  note: string | null
): Promise<void> {
  if (!(await setContactSyncState(deps.db, lease, contactId, state, note))) {
    throw new JobLeaseLostError(lease.jobId)
  }
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
    const linked = await linkContactPerson(tx, lease, contactId, { personId, orgId, warning, announce })
    if (!linked) throw new JobLeaseLostError(lease.jobId)
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
 * grace (see `personSearchGraceMs`) fails the round, retried later, as search lags a new record. A
 * create sent without an email cannot be looked up: the job stops for an operator (dead, its
 * lastError saying what to check and how to answer).
 */
export async function syncWarmLead(deps: SyncDeps, contactId: string, run: JobRun): Promise<WarmLeadOutcome> {
  const { lease } = run
  const contact = await loadContact(deps, contactId)
  if (!contact) return { kind: 'missing' }
  if (contact.pipedrivePersonId !== null) {
    // Known person (given by the CRM or linked before): nothing is written to Pipedrive.
    await storeLink(
      deps,
      lease,
      contact.id,
      contact.pipedrivePersonId,
      contact.organization?.pipedriveOrgId ?? null,
      null,
      false
    )
    return {
      kind: 'synced',
      personId: contact.pipedrivePersonId,
      orgId: contact.pipedriveOrgId,
      warnings: []
    }
  }
  // Before anything else: a create that no email can find again is settled by an operator only.
  if (contact.marker && (!contact.marker.withEmail || contact.email === null)) {
    throw operatorDecisionNeeded(contact.id, lease.jobId)
  }
  if (contact.warmnessScore < deps.config.WARM_LEAD_THRESHOLD) {
    await setState(deps, lease, contact.id, 'not_warm', null)
    return { kind: 'not_warm' }
  }
  const choice = await accountFor(deps, contact.ownerEmail, contact.ownerUser)
  if (!choice) {
    const reason = `no Pipedrive token for owner ${contact.ownerEmail}: set PIPEDRIVE_API_TOKEN or the owner's token with setup-user`
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
      organizationId: contact.organizationId,
      name: contact.organization?.name ?? null,
      industry: contact.organization?.industry ?? null,
      country: contact.organization?.country ?? null,
      pipedriveOrgId: contact.organization?.pipedriveOrgId ?? null
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
        email: contact.ownerEmail,
        id: contact.ownerId,
        name: contact.ownerName,
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
    // Deleted meanwhile: the person must not outlive the contact's delete (`person.delete`).
    await keepPersonOfDeletedContact(deps.db, lease, contact.id, personId).catch(() => false)
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
