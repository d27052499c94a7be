import { addCallback } from '../callbacks/outbox.js'
import { requireLease } from '../jobs/job-lease.js'
import { deletePerson } from '../pipedrive/api.js'
import { PipedriveError } from '../pipedrive/errors.js'
import { deletedContactPerson } from '../store/contacts.js'
import type { JobRun, SyncDeps } from './deps.js'
import { accountFor } from './owner.js'

export type PersonDeleteOutcome =
  | { kind: 'none' }
  | { kind: 'gone' }
  | { kind: 'skipped' }
  | { kind: 'deleted'; personId: number }

/** Pipedrive's answers for a person that is not there (deleted already, by anyone). */
const GONE = new Set([404, 410])

/**
 * Deletes a deleted contact's Pipedrive person (the `person.delete` job, queued only with
 * PIPEDRIVE_DELETE_PERSONS). It runs under the contact's serial key, so a sync of the contact in
 * flight at the delete has finished (or been discarded) first. A person already gone is done,
 * without a callback: `pipedrive.person.deleted` says only what this service deleted. The id
 * stays on the contact (ids are kept; the person's data is Pipedrive's to forget).
 */
export async function deleteDeletedContactPerson(
  deps: SyncDeps,
  contactId: string,
  { signal, lease }: JobRun
): Promise<PersonDeleteOutcome> {
  const contact = await deletedContactPerson(deps.db, contactId)
  if (!contact) return { kind: 'none' }
  // The owner's own token when it has one (its person may be visible to it only), else the company's.
  const choice = await accountFor(deps, contact.ownerEmail)
  if (!choice) {
    deps.log.warn({ contactId }, 'no Pipedrive token to delete the person with: left in Pipedrive')
    return { kind: 'skipped' }
  }
  try {
    await deletePerson(choice.account.client, contact.personId, { signal })
  } catch (error) {
    if (error instanceof PipedriveError && GONE.has(error.status)) return { kind: 'gone' }
    throw error
  }
  await deps.db.transaction(async (tx) => {
    await requireLease(tx, lease)
    await addCallback(tx, deps.config, {
      type: 'pipedrive.person.deleted',
      data: { contactId, pipedrivePersonId: contact.personId }
    })
  })
  return { kind: 'deleted', personId: contact.personId }
}
