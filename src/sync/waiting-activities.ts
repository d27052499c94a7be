import { sql } from 'drizzle-orm'
import type { Executor } from '../db/database.js'
import { JOB_TYPES } from '../jobs/job-types.js'

/**
 * Called in the transaction that links a contact to its Pipedrive person: every activity of the
 * contact that waited for the person is queued again, oldest first (job ids follow CRM creation
 * order, and one contact's jobs run in id order).
 */
export async function releaseWaitingActivities(tx: Executor, contactId: string): Promise<void> {
  await tx.execute(sql`
    with released as (
      update activities set state = 'pending', updated_at = now()
      where contact_id = ${contactId} and state = 'waiting_for_person'
      returning id, contact_id, crm_created_at
    )
    insert into jobs (type, entity_id, serial_key)
    select ${JOB_TYPES.activityReplicate}, id, contact_id from released order by crm_created_at, id
    on conflict (type, entity_id) where state in ('pending', 'retrying') do nothing`)
}
