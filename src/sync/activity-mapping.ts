import { FALLBACK_ACTIVITY_TYPE } from '../pipedrive/activities.js'
import { CRM_ACTIVITY_TYPES, type CrmActivityType } from '../schemas/webhook-events.js'

/**
 * The CRM → Pipedrive type map (docs/interface.md). Values are Pipedrive `key_string`s; whether the
 * account has them is checked at run time (chooseActivityType in src/pipedrive/activities.ts).
 */
export const ACTIVITY_TYPE_MAP: Readonly<Record<CrmActivityType, string>> = {
  CALL: 'call',
  EMAIL: 'email',
  MEETING: 'meeting',
  LINKEDIN: 'task',
  REFERRAL: 'task',
  CONFERENCE: 'meeting'
}

/**
 * The Pipedrive key for a stored CRM type. The intake admits only the six, but the column is
 * text: anything else becomes a task with a warning rather than a job that can never succeed.
 */
export function mapActivityType(type: string): { key: string; warning?: string } {
  if ((CRM_ACTIVITY_TYPES as readonly string[]).includes(type)) {
    return { key: ACTIVITY_TYPE_MAP[type as CrmActivityType] }
  }
  return { key: FALLBACK_ACTIVITY_TYPE, warning: `unknown CRM activity type "${type}"; used "task"` }
}
