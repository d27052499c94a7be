import { type SQL, sql } from 'drizzle-orm'
import { type Executor, preparedRows } from '../db/database.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import type { ActivityCreatedEventT, ContactUpdatedEventT } from '../schemas/webhook-events.js'

/**
 * `queued`: stored and work enqueued. `stale`: older than the newest update seen, recorded only.
 * `known`: the activity was already stored under another webhook id. `duplicate`: webhook id seen before.
 */
export type RecordOutcome = 'queued' | 'stale' | 'known' | 'duplicate'

interface RecordInput<E> {
  webhookId: string
  /** The verified raw body, stored as the inbox payload. */
  rawBody: string
  event: E
}

interface StatementResult {
  inserted: number
  applied: number
}

/** The inbox row; it returns nothing for a webhook id seen before, and the rest of the statement follows it. */
function inboxInsert(webhookId: string, type: string, rawBody: string): SQL {
  return sql`insert into webhook_inbox (webhook_id, type, payload) values (${webhookId}, ${type}, ${rawBody}::jsonb)
    on conflict (webhook_id) do nothing returning id`
}

function outcome(result: StatementResult | undefined, notApplied: RecordOutcome): RecordOutcome {
  if (!result || result.inserted === 0) return 'duplicate'
  return result.applied > 0 ? 'queued' : notApplied
}

/**
 * Inbox row, contact (and organization) snapshot and job in one statement: atomic without an
 * explicit transaction, and one round trip (see toolchain.md for what three statements cost).
 */
export async function recordContactUpdated(
  db: Executor,
  { webhookId, rawBody, event }: RecordInput<ContactUpdatedEventT>
): Promise<RecordOutcome> {
  const c = event.data
  const org = c.organization ?? null
  const [result] = await preparedRows<StatementResult>(
    db,
    'record_contact_updated',
    sql`
    with inbox as (${inboxInsert(webhookId, event.type, rawBody)}), contact as (
      insert into contacts (id, name, email, phone, warmness_score, owner_id, owner_email, owner_name,
                            organization_id, pipedrive_person_id, source_updated_at)
      select ${c.id}, ${c.name}, ${c.email ?? null}, ${c.phone ?? null}, ${c.warmnessScore}::double precision,
             ${c.owner.id}, ${c.owner.email.toLowerCase()}, ${c.owner.name ?? null},
             ${org?.id ?? null}, ${c.pipedrivePersonId ?? null}::integer, ${c.updatedAt}::timestamptz
      from inbox
      on conflict (id) do update set
        name = excluded.name, email = excluded.email, phone = excluded.phone,
        warmness_score = excluded.warmness_score, owner_id = excluded.owner_id,
        owner_email = excluded.owner_email, owner_name = excluded.owner_name,
        organization_id = excluded.organization_id,
        pipedrive_person_id = coalesce(contacts.pipedrive_person_id, excluded.pipedrive_person_id),
        source_updated_at = excluded.source_updated_at, updated_at = now()
      where contacts.source_updated_at <= excluded.source_updated_at
      returning id
    ), organization_insert as (
      insert into organizations (id, name, industry, country, pipedrive_org_id)
      select ${org?.id ?? null}, ${org?.name ?? null}, ${org?.industry ?? null}, ${org?.country ?? null},
             ${org?.pipedriveOrgId ?? null}::integer
      from contact where ${org?.id ?? null}::text is not null
      on conflict (id) do nothing
    ), organization_update as (
      -- Many contacts share an organization: touch (and lock) its row only when something changed,
      -- or every event of that organization would wait for the previous one's commit.
      update organizations set
        name = ${org?.name ?? null}, industry = ${org?.industry ?? null}, country = ${org?.country ?? null},
        pipedrive_org_id = coalesce(${org?.pipedriveOrgId ?? null}::integer, organizations.pipedrive_org_id),
        updated_at = now()
      from contact
      where organizations.id = ${org?.id ?? null}
        and (name, industry, country, pipedrive_org_id) is distinct from
            (${org?.name ?? null}::text, ${org?.industry ?? null}::text, ${org?.country ?? null}::text,
             coalesce(${org?.pipedriveOrgId ?? null}::integer, organizations.pipedrive_org_id))
    ), job as (
      insert into jobs (type, entity_id, serial_key)
      select ${JOB_TYPES.contactSync}, id, id from contact
      on conflict (type, entity_id) where state in ('pending', 'retrying') do nothing
    )
    select (select count(*) from inbox)::int as inserted, (select count(*) from contact)::int as applied`
  )
  return outcome(result, 'stale')
}

export async function recordActivityCreated(
  db: Executor,
  { webhookId, rawBody, event }: RecordInput<ActivityCreatedEventT>
): Promise<RecordOutcome> {
  const a = event.data
  const [result] = await preparedRows<StatementResult>(
    db,
    'record_activity_created',
    sql`
    with inbox as (${inboxInsert(webhookId, event.type, rawBody)}), activity as (
      insert into activities (id, contact_id, type, subject, note, due_at, duration_minutes, done,
                              owner_id, owner_email, owner_name, payload_person_id, crm_created_at)
      select ${a.id}, ${a.contactId}, ${a.type}, ${a.subject}, ${a.note ?? null}, ${a.dueAt ?? null},
             ${a.durationMinutes ?? null}::integer, ${a.done ?? false}::boolean, ${a.owner?.id ?? null},
             ${a.owner?.email.toLowerCase() ?? null}, ${a.owner?.name ?? null},
             ${a.pipedrivePersonId ?? null}::integer, ${a.createdAt}::timestamptz
      from inbox
      on conflict (id) do nothing
      returning id, contact_id
    ), job as (
      insert into jobs (type, entity_id, serial_key)
      select ${JOB_TYPES.activityReplicate}, id, contact_id from activity
      on conflict (type, entity_id) where state in ('pending', 'retrying') do nothing
    )
    select (select count(*) from inbox)::int as inserted, (select count(*) from activity)::int as applied`
  )
  return outcome(result, 'known')
}
