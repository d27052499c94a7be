import type { ActivityPushedField, PushedActivity } from '../db/schema.js'
import type { NewActivityInput } from '../pipedrive/activities.js'
import type { ActivityUpdate } from '../pipedrive/schemas.js'

/** An activity's Pipedrive fields, without the links (person, organization) an update never changes. */
export type ActivityFields = Omit<NewActivityInput, 'personId' | 'orgId'>

/**
 * The tracked fields as Pipedrive holds them once `fields` is written. A note left out is an
 * empty note, so clearing it in the CRM empties it in Pipedrive; a due date, time, duration or
 * owner left out is not sent at all (Pipedrive keeps what it has: its PATCH takes no null).
 */
export function pushedOf(fields: ActivityFields): PushedActivity {
  return {
    subject: fields.subject,
    type: fields.type,
    done: fields.done ?? false,
    note: fields.note ?? '',
    ...(fields.dueDate ? { due_date: fields.dueDate } : {}),
    ...(fields.dueTime ? { due_time: fields.dueTime.slice(0, 5) } : {}),
    ...(fields.duration ? { duration: fields.duration } : {}),
    ...(fields.ownerId === undefined ? {} : { owner_id: fields.ownerId })
  }
}

/**
 * What a PATCH must carry to turn `pushed` into `next`: the fields whose value differs. Nothing
 * recorded (an activity replicated before the service kept this record) → every field.
 */
export function changedFields(pushed: PushedActivity | null, next: PushedActivity): ActivityUpdate {
  const body: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(next) as [ActivityPushedField, unknown][]) {
    if (value !== undefined && value !== pushed?.[field]) body[field] = value
  }
  return body as ActivityUpdate
}
