import { addCallback } from '../callbacks/outbox.js'
import type { ActivityPushedField } from '../db/schema.js'
import { PermanentJobError } from '../jobs/worker.js'
import { deleteActivity, patchActivity } from '../pipedrive/api.js'
import { PipedriveError } from '../pipedrive/errors.js'
import { loadReplicationSubject, markDeleted, storePushed } from '../store/activities.js'
import { changedFields, pushedOf } from './activity-fields.js'
import { ownerCandidates } from './activity-owner.js'
import { resolveActivity } from './activity-replication.js'
import type { JobRun, SyncDeps } from './deps.js'
import { accountFor } from './owner.js'

export type ActivityUpdateOutcome =
  | { kind: 'missing' | 'deleted' | 'not_replicated' | 'unchanged' }
  | { kind: 'patched'; fields: ActivityPushedField[] }

export type ActivityDeleteOutcome =
  | { kind: 'missing' | 'already' }
  | { kind: 'deleted'; pipedriveActivityId: number | null }

/** Pipedrive deletes softly: a record already gone answers 404, or 410. */
const isGone = (error: unknown) =>
  error instanceof PipedriveError && (error.status === 404 || error.status === 410)

/**
 * Carries an `activity.updated` to Pipedrive (docs/sync.md, the `activity.update` job): one PATCH
 * with the tracked fields that differ from what was last written, none when nothing does. An
 * activity not replicated yet needs nothing here: its replication reads the newest state.
 * Updates waiting together are one job (the queue folds them), so one PATCH carries the newest.
 */
export async function pushActivityUpdate(
  deps: SyncDeps,
  activityId: string,
  { signal, lease }: JobRun
): Promise<ActivityUpdateOutcome> {
  const subject = await loadReplicationSubject(deps.db, activityId)
  if (!subject) return { kind: 'missing' }
  const { activity } = subject
  if (activity.deletedAt !== null) return { kind: 'deleted' }
  const pipedriveActivityId = activity.pipedriveActivityId
  if (!activity.replicatedToPipedrive || pipedriveActivityId === null) return { kind: 'not_replicated' }

  const resolved = await resolveActivity(deps, subject, signal)
  if ('skipped' in resolved) throw new PermanentJobError(resolved.skipped)
  const next = pushedOf(resolved.fields)
  const body = changedFields(activity.pushed, next)
  const fields = Object.keys(body) as ActivityPushedField[]
  if (fields.length === 0) return { kind: 'unchanged' }

  try {
    await patchActivity(resolved.account.client, pipedriveActivityId, body, { signal })
  } catch (error) {
    // Retrying cannot bring it back: dead, for an operator (or a later recovery) to look at.
    if (isGone(error)) {
      throw new PermanentJobError(
        `activity ${activityId}: Pipedrive activity ${pipedriveActivityId} no longer exists ` +
          `(${(error as PipedriveError).status}); the update was not applied`
      )
    }
    throw error
  }
  const stored = await deps.db.transaction(async (tx) => {
    // Deleted meanwhile (its contact erased, maybe): nothing of it is written again.
    if (!(await storePushed(tx, lease, activityId, { ...activity.pushed, ...next }, fields))) return false
    await addCallback(tx, deps.config, {
      type: 'pipedrive.activity.updated',
      data: { activityId, pipedriveActivityId, fields }
    })
    return true
  })
  if (!stored) return { kind: 'deleted' }
  for (const text of resolved.warnings) deps.log.warn({ activityId }, text)
  return { kind: 'patched', fields }
}

/**
 * Carries an `activity.deleted` (docs/sync.md, the `activity.delete` job): a replicated activity is
 * deleted in Pipedrive once (already gone counts as done); one never replicated stays so, as the
 * intake cancelled its waiting replication and a replication that starts later sees the mark.
 * Either way the activity ends `deleted`, with its callback.
 */
export async function deleteActivityReplica(
  deps: SyncDeps,
  activityId: string,
  { signal, lease }: JobRun
): Promise<ActivityDeleteOutcome> {
  const subject = await loadReplicationSubject(deps.db, activityId)
  if (!subject) return { kind: 'missing' }
  const { activity, contact } = subject
  if (activity.state === 'deleted') return { kind: 'already' }
  const pipedriveActivityId = activity.replicatedToPipedrive ? activity.pipedriveActivityId : null

  if (pipedriveActivityId !== null) {
    const choice = await accountFor(deps, ownerCandidates(activity, contact)[0]?.email ?? '')
    if (!choice) {
      throw new PermanentJobError(
        'no Pipedrive token: the owner has none stored and PIPEDRIVE_API_TOKEN is not set'
      )
    }
    try {
      await deleteActivity(choice.account.client, pipedriveActivityId, { signal })
    } catch (error) {
      if (!isGone(error)) throw error
    }
  }
  await deps.db.transaction(async (tx) => {
    await markDeleted(tx, lease, activityId)
    await addCallback(tx, deps.config, {
      type: 'pipedrive.activity.deleted',
      data: { activityId, pipedriveActivityId }
    })
  })
  return { kind: 'deleted', pipedriveActivityId }
}
