import type { Executor } from '../db/database.js'
import type { PipedriveAccount } from '../pipedrive/account.js'
import type { NewActivityInput } from '../pipedrive/activities.js'
import { listPersonActivities } from '../pipedrive/api.js'
import type { Activity } from '../pipedrive/schemas.js'
import { claimedElsewhere } from '../store/activities.js'

// Pipedrive may send an empty string or null for "no date/time", and HH:MM:SS for a time.
const dateOf = (value: string | null | undefined) => value || undefined
const timeOf = (value: string | null | undefined) => value?.slice(0, 5) || undefined

function sameActivity(found: Activity, sent: NewActivityInput): boolean {
  return (
    found.subject === sent.subject &&
    found.type === sent.type &&
    dateOf(found.due_date) === dateOf(sent.dueDate) &&
    timeOf(found.due_time) === timeOf(sent.dueTime)
  )
}

/**
 * The Pipedrive activity an earlier create of ours made, if any: among the person's activities,
 * one with the same subject, type, due date and due time (docs/interface.md, stricter by the time)
 * that no other activity of ours is linked to. The last condition keeps two CRM activities
 * that look alike (two "Intro call"s on one day) from collapsing into one Pipedrive record.
 * A failed look-up throws: "could not look" is never taken for "not there".
 */
export async function findReplica(
  db: Executor,
  account: PipedriveAccount,
  activityId: string,
  sent: NewActivityInput,
  signal?: AbortSignal
): Promise<number | undefined> {
  const listed = await listPersonActivities(account.client, sent.personId, signal ? { signal } : {})
  const candidates = listed.filter((found) => sameActivity(found, sent)).map((found) => found.id)
  const claimed = await claimedElsewhere(db, candidates, activityId)
  // Lowest id: the same answer on every look, whatever order Pipedrive lists them in.
  return candidates.filter((id) => !claimed.has(id)).sort((a, b) => a - b)[0]
}
