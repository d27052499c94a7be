import type { Config } from '../config.js'
import type { Executor } from '../db/database.js'
import { PERSON_SENDING_STATE, PERSON_SENDING_WITHOUT_EMAIL_STATE } from '../db/schema.js'
import { type JobLease, JobLeaseLostError } from '../jobs/job-lease.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import { PermanentJobError } from '../jobs/worker.js'
import type { PipedriveAccount } from '../pipedrive/account.js'
import type { AttemptInfo } from '../pipedrive/client.js'
import { PipedriveAmbiguousCreateError, PipedriveError, PipedriveNetworkError } from '../pipedrive/errors.js'
import { createPerson, type NewPersonInput } from '../pipedrive/persons.js'
import {
  clearPersonCreateSent,
  forgetPersonCreateSent,
  markPersonCreateSent as markSent,
  personLinkedAndLeaseHeld
} from '../store/contacts.js'
import type { JobRun, SyncDeps } from './deps.js'

/** The marker as a round reads it at its start. */
export interface PersonCreateMarker {
  /** When the create was sent (ISO 8601, the database's clock). */
  sentAt: string
  withEmail: boolean
  /** Sent within the search grace: a person it made may not be searchable yet. */
  recent: boolean
}

/**
 * How long after a create a person may still be missing from Pipedrive's search (its index lags a
 * new record). Within it, a round that does not find the person fails (retried later) instead of
 * creating it again. The service uses SYNC_BACKOFF_BASE_MS, the pause it leaves Pipedrive between
 * rounds anyway (30 s by default): the first retry (0.8–1× that later) usually still falls within
 * it, so the person is looked for at least twice, the last time after the grace, before a second
 * create.
 */
export const personSearchGraceMs = (config: Pick<Config, 'SYNC_BACKOFF_BASE_MS'>) =>
  config.SYNC_BACKOFF_BASE_MS

/** The marker from the contact's columns as `loadContactForSync` reads them (null: no create pending). */
export function markerOf(columns: {
  sentAt: string | null
  withEmail: boolean
  recent: boolean
}): PersonCreateMarker | null {
  if (columns.sentAt === null) return null
  return { sentAt: columns.sentAt, withEmail: columns.withEmail, recent: columns.recent }
}

/**
 * Written just before the create is sent, so a crash, an abort or a lost answer after it leaves a
 * trace the next round sees. 'linked' when a person id arrived meanwhile (the CRM sent one): then
 * nothing may be created.
 */
export async function markPersonCreateSent(
  db: Executor,
  lease: JobLease,
  contactId: string,
  withEmail: boolean
): Promise<'marked' | 'linked'> {
  const state = withEmail ? PERSON_SENDING_STATE : PERSON_SENDING_WITHOUT_EMAIL_STATE
  if (await markSent(db, lease, contactId, state)) return 'marked'
  const contact = await personLinkedAndLeaseHeld(db, lease, contactId)
  if (!contact?.held) throw new JobLeaseLostError(lease.jobId)
  return 'linked'
}

/**
 * An operator replaying a contact's dead job one by one (`POST /api/sync/jobs/:jobId/retry`) has
 * checked Pipedrive and found no person: the mark of a create whose outcome was unknown goes, and
 * the replay creates the person. A bulk replay (retry-dead) is no such check: it keeps the mark.
 * Runs in the replay's transaction.
 */
export async function acceptUnknownPersonCreate(
  tx: Executor,
  job: { type: string; entityId: string }
): Promise<void> {
  if (job.type !== JOB_TYPES.contactSync) return
  await forgetPersonCreateSent(tx, job.entityId)
}

/**
 * A create was sent within the search grace (see `personSearchGraceMs`) and the person's email does not find it:
 * it may exist without being searchable yet. Retryable: a later round looks again.
 */
export class PersonOutcomeUnknownError extends Error {
  constructor(contactId: string) {
    super(`contact ${contactId}: a person create may have reached Pipedrive; looking again before creating`)
    this.name = 'PersonOutcomeUnknownError'
  }
}

/**
 * A create sent without an email may have made a person that nothing can find again: an operator
 * decides. The message says how (it becomes the dead job's lastError).
 */
export function operatorDecisionNeeded(contactId: string, jobId: number): PermanentJobError {
  return new PermanentJobError(
    `contact ${contactId}: a person create was sent to Pipedrive without an email and its outcome is ` +
      'unknown (the answer was lost or the process stopped), so the person cannot be looked up. Check ' +
      'Pipedrive: if the person exists, send its id as pipedrivePersonId in a contact.updated event; ' +
      `if not, replay this job (POST /api/sync/jobs/${jobId}/retry) to create it.`
  )
}

export interface PersonToCreate {
  contactId: string
  email: string | null
  /** The marker as the round read it at its start (null: no create sent before). */
  marker: PersonCreateMarker | null
  input: NewPersonInput
}

/**
 * Creates the person once the round knows none exists by email (or there is no email). The create
 * is marked before it is sent; the mark goes only when the create certainly made nothing, or with
 * the link (storeLink). Undefined when a person id arrived meanwhile (nothing was created).
 */
export async function createPersonOnce(
  deps: SyncDeps,
  account: PipedriveAccount,
  person: PersonToCreate,
  run: JobRun
): Promise<number | undefined> {
  const { contactId, email, marker } = person
  // A mark seen here is one of a create that carried the email (the others stop the round at its start).
  if (marker?.recent) throw new PersonOutcomeUnknownError(contactId)
  if ((await markPersonCreateSent(deps.db, run.lease, contactId, email !== null)) === 'linked')
    return undefined
  const sent = sendTracker()
  try {
    return (await createPerson(account, person.input, { signal: run.signal, onAttempt: sent.record })).id
  } catch (error) {
    if (!sent.mayHaveCreated) {
      await clearPersonCreateSent(deps.db, run.lease, contactId).catch((clearError: unknown) =>
        deps.log.warn({ contactId, err: (clearError as Error).message }, 'person create mark not cleared')
      )
    }
    if (error instanceof PipedriveAmbiguousCreateError)
      throw operatorDecisionNeeded(contactId, run.lease.jobId)
    throw error
  }
}

/**
 * Whether any create request sent may have made the person: all but answers refused before
 * processing (4xx, 429) and connections that never left. A call aborted mid-flight counts as sent.
 */
function sendTracker() {
  let mayHaveCreated = false
  return {
    record(info: AttemptInfo) {
      const error = info.error
      const refused =
        (error instanceof PipedriveError && !error.ambiguous) ||
        (error instanceof PipedriveNetworkError && !error.sent)
      if (!refused) mayHaveCreated = true
    },
    get mayHaveCreated() {
      return mayHaveCreated
    }
  }
}
