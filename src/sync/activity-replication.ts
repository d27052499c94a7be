import { addCallback } from '../callbacks/outbox.js'
import { ACTIVITY_SENDING_STATE, type PushedActivity } from '../db/schema.js'
import type { JobLease } from '../jobs/job-lease.js'
import { PermanentJobError } from '../jobs/worker.js'
import type { PipedriveAccount } from '../pipedrive/account.js'
import { chooseActivityType, createActivity, type NewActivityInput } from '../pipedrive/activities.js'
import type { AttemptInfo } from '../pipedrive/client.js'
import {
  type ActivityRow,
  loadReplicationSubject,
  markSending,
  markSkipped,
  parkUntilPerson,
  type ReplicationSubject,
  recordCreateAttempt,
  storeReplica
} from '../store/activities.js'
import { type ActivityFields, pushedOf } from './activity-fields.js'
import { findReplica } from './activity-lookup.js'
import { mapActivityType } from './activity-mapping.js'
import { activityOwnerId, ownerCandidates } from './activity-owner.js'
import type { JobRun, SyncDeps } from './deps.js'
import { InvalidDueAtError, pipedriveDue, pipedriveDuration } from './due-time.js'
import { accountFor } from './owner.js'

export type ReplicationOutcome =
  | { kind: 'missing' }
  | { kind: 'deleted' }
  | { kind: 'already'; pipedriveActivityId: number | null }
  | { kind: 'waiting_for_person' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'synced'; pipedriveActivityId: number; created: boolean; warnings: string[] }

/**
 * A create was sent, its answer never came, and the person's activities show nothing that
 * matches yet. Thrown (retryable) rather than creating again at once: the next round looks
 * again before it creates, which also gives a just-made record time to become listable.
 */
export class ActivityOutcomeUnknownError extends Error {
  constructor(activityId: string) {
    super(`activity ${activityId}: a create may have reached Pipedrive; looking again before creating`)
    this.name = 'ActivityOutcomeUnknownError'
  }
}

/**
 * Replicates one stored activity to Pipedrive (docs/sync.md, the `activity.replicate` job).
 *
 * Exactly one Pipedrive activity per CRM activity, whatever is retried or redelivered:
 * - replicated already → nothing (the id is stored with the flag in one guarded statement);
 * - the jobs of one contact never run concurrently (serial key), so two runs never race;
 * - unknown outcome (the create was sent, the answer lost: timeout, reset, 5xx): we never
 *   create blindly again. The activity is marked `sending` before its first create, and any
 *   later attempt — an in-line retry, the next round, a run after a crash — first lists the
 *   person's activities and adopts one with the same subject, type, due date and time that no
 *   other activity of ours owns. Found → stored as ours. Not found → created. The look-up
 *   failing → the round fails and the queue retries later: "could not look" never means
 *   "not there". Giving up instead (dead at once) would leave an activity for an operator on
 *   every lost answer; creating without looking risks the duplicate the service promises never to make.
 *   What remains: an activity someone entered by hand in Pipedrive with the same subject, type,
 *   person and minute as ours, while our create's answer was lost, is adopted instead of
 *   ours being created — the same record in every respect Pipedrive lets us compare.
 */
export async function replicateActivity(
  deps: SyncDeps,
  activityId: string,
  run: JobRun
): Promise<ReplicationOutcome> {
  const { signal, lease } = run
  let subject = await loadReplicationSubject(deps.db, activityId)
  if (!subject) return { kind: 'missing' }
  // Deleted in the CRM before its replication ran: never created (docs/sync.md).
  if (subject.activity.deletedAt !== null) return { kind: 'deleted' }
  if (!hasPerson(subject)) {
    if (await parkUntilPerson(deps.db, lease, subject.activity.id, subject.activity.contactId)) {
      return { kind: 'waiting_for_person' }
    }
    // Linked between our read and the lock: read again with the person.
    subject = await loadReplicationSubject(deps.db, activityId)
    if (!subject) return { kind: 'missing' }
  }
  const { activity, contact } = subject
  if (activity.replicatedToPipedrive) {
    return { kind: 'already', pipedriveActivityId: activity.pipedriveActivityId }
  }
  // The mapping wins over the payload: the service's own link is the one it keeps current.
  const personId = contact?.pipedrivePersonId ?? activity.payloadPersonId
  if (personId === null) return { kind: 'waiting_for_person' }

  const resolved = await resolveActivity(deps, subject, signal)
  if ('skipped' in resolved) {
    await markSkipped(deps.db, lease, activity.id, resolved.skipped)
    return { kind: 'skipped', reason: resolved.skipped }
  }
  const { account, fields, warnings } = resolved
  const input: NewActivityInput = {
    ...fields,
    personId,
    ...(subject.pipedriveOrgId === null ? {} : { orgId: subject.pipedriveOrgId })
  }
  const warning = warnings.length > 0 ? warnings.join('; ') : null
  const pushed = pushedOf(fields)

  if (activity.state === ACTIVITY_SENDING_STATE || activity.pipedriveSyncAttempts > 0) {
    const found = await findReplica(deps.db, account, activity.id, input, signal)
    if (found !== undefined) return stored(deps, lease, activity.id, found, false, warnings, warning, pushed)
  }
  if (!(await markSending(deps.db, lease, activity.id))) return { kind: 'already', pipedriveActivityId: null }

  const attempts = attemptRecorder(deps, activity.id)
  let result: { id: number; created: boolean }
  try {
    result = await createActivity(account, input, { onAttempt: attempts.record, signal })
  } finally {
    await attempts.settled()
  }
  if (result.created) return stored(deps, lease, activity.id, result.id, true, warnings, warning, pushed)

  // The client's own look-up (after an in-line retry) matches by date only and cannot know our
  // other activities: its find is re-checked by ours before it is stored.
  const found = await findReplica(deps.db, account, activity.id, input, signal)
  if (found === undefined) throw new ActivityOutcomeUnknownError(activity.id)
  return stored(deps, lease, activity.id, found, false, warnings, warning, pushed)
}

function hasPerson({ activity, contact }: ReplicationSubject): boolean {
  return (
    activity.replicatedToPipedrive || contact?.pipedrivePersonId != null || activity.payloadPersonId !== null
  )
}

export interface ResolvedActivity {
  /** The token the activity is written with: its first owner's, else the company's. */
  account: PipedriveAccount
  fields: ActivityFields
  warnings: string[]
}

/**
 * The token, type and owner an activity is written to Pipedrive with (its create and its
 * updates alike); `skipped` when no token can write it.
 */
export async function resolveActivity(
  deps: SyncDeps,
  { activity, contact }: ReplicationSubject,
  signal: AbortSignal
): Promise<ResolvedActivity | { skipped: string }> {
  const owners = ownerCandidates(activity, contact)
  // No owner at all (no contact, none on the activity): '' matches no user → the company token.
  const choice = await accountFor(deps, owners[0]?.email ?? '')
  if (!choice) {
    return { skipped: 'no Pipedrive token: the owner has none stored and PIPEDRIVE_API_TOKEN is not set' }
  }
  const { account } = choice
  // accountFor read the first owner's users row: its Pipedrive id is not read twice.
  const candidates = owners.map((owner, i) =>
    i === 0 ? { ...owner, pipedriveUserId: choice.ownerUserId } : owner
  )

  const warnings: string[] = []
  const mapped = mapActivityType(activity.type)
  if (mapped.warning) warnings.push(mapped.warning)
  const chosen = await chooseActivityType(account, mapped.key)
  if (chosen.warning) warnings.push(chosen.warning)
  const owner = await activityOwnerId(deps, account, candidates, signal)
  if (owner.warning) warnings.push(owner.warning)
  return { account, fields: activityFields(activity, chosen.type, owner.ownerId), warnings }
}

function activityFields(activity: ActivityRow, type: string, ownerId: number | undefined): ActivityFields {
  let due: ReturnType<typeof pipedriveDue>
  try {
    due = pipedriveDue(activity.dueAt)
  } catch (error) {
    // Stored data that can never be sent: retrying cannot help.
    if (error instanceof InvalidDueAtError) throw new PermanentJobError(error.message)
    throw error
  }
  const duration = pipedriveDuration(activity.durationMinutes)
  return {
    subject: activity.subject,
    type,
    done: activity.done,
    ...(ownerId === undefined ? {} : { ownerId }),
    ...due,
    ...(duration === undefined ? {} : { duration }),
    ...(activity.note ? { note: activity.note } : {})
  }
}

/**
 * `onAttempt` is synchronous and fires after each create call; the counter updates run in
 * order behind it and are awaited before the round ends, so a round never finishes (or
 * fails) with its attempts unrecorded.
 */
function attemptRecorder(deps: SyncDeps, activityId: string) {
  let chain: Promise<void> = Promise.resolve()
  let failure: unknown
  return {
    record: (info: AttemptInfo) => {
      chain = chain
        .then(() => recordCreateAttempt(deps.db, activityId, info.startedAt))
        .catch((error: unknown) => {
          failure ??= error
        })
    },
    async settled() {
      await chain
      if (failure) deps.log.warn({ activityId, err: failure }, 'attempt count not stored')
    }
  }
}

async function stored(
  deps: SyncDeps,
  lease: JobLease,
  activityId: string,
  pipedriveActivityId: number,
  created: boolean,
  warnings: string[],
  warning: string | null,
  pushed: PushedActivity
): Promise<ReplicationOutcome> {
  const linked = await deps.db.transaction(async (tx) => {
    if (!(await storeReplica(tx, lease, activityId, pipedriveActivityId, warning, pushed))) return false
    await addCallback(tx, deps.config, {
      type: 'pipedrive.activity.synced',
      data: { activityId, pipedriveActivityId }
    })
    return true
  })
  if (!linked) {
    // Cannot happen while one contact's jobs run one at a time; loud if it ever does.
    deps.log.error(
      { activityId, pipedriveActivityId },
      'activity was replicated by another run meanwhile; this Pipedrive activity is not linked'
    )
    return { kind: 'already', pipedriveActivityId: null }
  }
  for (const text of warnings) deps.log.warn({ activityId }, text)
  return { kind: 'synced', pipedriveActivityId, created, warnings }
}
