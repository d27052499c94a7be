import type { PipedriveAccount } from './account.js'
import { type ApiOptions, listActivityTypes, listPersonActivities, postActivity } from './api.js'
import type { PipedriveClient } from './client.js'
import { type CreateOptions, createOnce } from './create-once.js'
import type { ActivityType, NewActivity } from './schemas.js'

/** The type used when the mapped one does not exist in the account (docs/pipedrive.md). */
export const FALLBACK_ACTIVITY_TYPE = 'task'

export interface NewActivityInput {
  subject: string
  /** An activity type key_string (call, meeting, task…). */
  type: string
  personId: number
  ownerId?: number
  orgId?: number
  /** YYYY-MM-DD (UTC). */
  dueDate?: string
  /** HH:MM or HH:MM:SS (UTC); sent as HH:MM. */
  dueTime?: string
  /** HH:MM */
  duration?: string
  note?: string
  done?: boolean
}

export interface CreatedActivity {
  id: number
  created: boolean
}

/** The account's activity types (cached). */
export function activityTypes(account: PipedriveAccount): Promise<ActivityType[]> {
  return account.cache.activityTypes.get('types', () => listActivityTypes(account.client))
}

/**
 * Picks the type to send: the mapped key when the account has it active, else `task` with a
 * warning. When the types cannot be read, the mapped key is kept: best effort.
 */
export async function chooseActivityType(
  account: PipedriveAccount,
  key: string
): Promise<{ type: string; warning?: string }> {
  let types: ActivityType[]
  try {
    types = await activityTypes(account)
  } catch (error) {
    account.log.warn(
      { pipedriveToken: account.client.key, err: (error as Error).message },
      'activity types unreadable'
    )
    return { type: key }
  }
  if (types.some((candidate) => candidate.key_string === key && candidate.active_flag)) return { type: key }
  return {
    type: FALLBACK_ACTIVITY_TYPE,
    warning: `activity type "${key}" does not exist in Pipedrive; used "${FALLBACK_ACTIVITY_TYPE}"`
  }
}

/**
 * Creates the activity with the person as primary participant (v2 has no writable person_id),
 * unless a lost earlier create made it: the look-up searches the person's activities for the
 * same subject, type and due date.
 */
export async function createActivity(
  account: PipedriveAccount,
  input: NewActivityInput,
  options: CreateOptions = {}
): Promise<CreatedActivity> {
  const { client } = account
  const body: NewActivity = {
    subject: input.subject,
    type: input.type,
    participants: [{ person_id: input.personId, primary: true }]
  }
  if (input.ownerId !== undefined) body.owner_id = input.ownerId
  if (input.orgId !== undefined) body.org_id = input.orgId
  if (input.dueDate) body.due_date = input.dueDate
  if (input.dueTime) body.due_time = input.dueTime.slice(0, 5)
  if (input.duration) body.duration = input.duration
  if (input.note) body.note = input.note
  if (input.done !== undefined) body.done = input.done
  const { value, created } = await createOnce(
    client,
    {
      what: 'activity',
      create: async (callOptions) => ({ id: (await postActivity(client, body, callOptions)).id }),
      lookup: async (callOptions) => findSameActivity(client, body, input.personId, callOptions)
    },
    options
  )
  return { id: value.id, created }
}

async function findSameActivity(
  client: PipedriveClient,
  body: NewActivity,
  personId: number,
  options: ApiOptions
): Promise<{ id: number } | undefined> {
  const activities = await listPersonActivities(client, personId, options)
  const match = activities.find(
    (activity) =>
      activity.subject === body.subject &&
      activity.type === body.type &&
      (activity.due_date ?? undefined) === body.due_date
  )
  return match ? { id: match.id } : undefined
}
