import { lt, sql } from 'drizzle-orm'
import { type Executor, preparedStatement } from '../db/database.js'
import { webhookInbox } from '../db/schema.js'
import { JOB_TYPES } from '../jobs/job-types.js'
import type {
  ActivityCreatedEventT,
  ActivityDeletedEventT,
  ActivityUpdatedEventT,
  ContactDeletedEventT,
  ContactUpdatedEventT
} from '../schemas/webhook-events.js'
import { beforeMs } from './intervals.js'
import { cancelWaitingJobs, enqueueJobs } from './jobs.js'
import { deleteUpTo } from './prune.js'

/** `inserted`: 0 for a webhook id seen before. `applied`: 0 when the event changed nothing. */
interface IntakeWrite {
  inserted: number
  applied: number
}

const p = (name: string) => sql.placeholder(name)

/**
 * The inbox row of a webhook, for a prepared statement (placeholders `webhookId`, `type`,
 * `rawBody`): it returns nothing for a webhook id seen before, so a statement built on it can
 * make everything else it writes follow from it.
 */
const insertInboxRow = sql`insert into webhook_inbox (webhook_id, type, payload)
  values (${p('webhookId')}, ${p('type')}, ${p('rawBody')}::jsonb)
  on conflict (webhook_id) do nothing returning webhook_id`

/**
 * Inbox row, contact (and organization) snapshot and job in one statement: atomic without an
 * explicit transaction, and one round trip (three statements in a transaction cost the intake more
 * than half its throughput: docs/performance.md). Its values are the placeholders it names.
 */
const writeContactUpdated = preparedStatement<IntakeWrite>(
  'record_contact_updated',
  sql`
  with inbox as (${insertInboxRow}), contact as (
    insert into contacts (id, name, email, phone, warmness_score, owner_id, owner_email, owner_name,
                          organization_id, pipedrive_person_id, source_updated_at)
    select ${p('id')}, ${p('name')}, ${p('email')}, ${p('phone')}, ${p('warmnessScore')}::double precision,
           ${p('ownerId')}, ${p('ownerEmail')}, ${p('ownerName')},
           ${p('orgId')}, ${p('pipedrivePersonId')}::bigint, ${p('updatedAt')}::timestamptz
    from inbox
    on conflict (id) do update set
      name = excluded.name, email = excluded.email, phone = excluded.phone,
      warmness_score = excluded.warmness_score, owner_id = excluded.owner_id,
      owner_email = excluded.owner_email, owner_name = excluded.owner_name,
      organization_id = excluded.organization_id,
      pipedrive_person_id = coalesce(contacts.pipedrive_person_id, excluded.pipedrive_person_id),
      source_updated_at = excluded.source_updated_at, updated_at = now()
    -- A delete is final: later events of the contact are recorded in the inbox only.
    where contacts.source_updated_at <= excluded.source_updated_at and contacts.deleted_at is null
    returning id
  ), organization_insert as (
    insert into organizations (id, name, industry, country, pipedrive_org_id)
    select ${p('orgId')}, ${p('orgName')}, ${p('orgIndustry')}, ${p('orgCountry')}, ${p('orgPipedriveId')}::bigint
    from contact where ${p('orgId')}::text is not null
    on conflict (id) do nothing
  ), organization_update as (
    -- Many contacts share an organization: touch (and lock) its row only when something changed,
    -- or every event of that organization would wait for the previous one's commit.
    update organizations set
      name = ${p('orgName')}, industry = ${p('orgIndustry')}, country = ${p('orgCountry')},
      pipedrive_org_id = coalesce(${p('orgPipedriveId')}::bigint, organizations.pipedrive_org_id),
      updated_at = now()
    from contact
    where organizations.id = ${p('orgId')}
      and (name, industry, country, pipedrive_org_id) is distinct from
          (${p('orgName')}::text, ${p('orgIndustry')}::text, ${p('orgCountry')}::text,
           coalesce(${p('orgPipedriveId')}::bigint, organizations.pipedrive_org_id))
  ), job as (
    ${enqueueJobs(sql`select ${JOB_TYPES.contactSync}, id, id from contact`)}
  )
  select (select count(*) from inbox)::int as inserted, (select count(*) from contact)::int as applied`
)

/** Inbox row, activity and job in one statement (see `writeContactUpdated`). */
const writeActivityCreated = preparedStatement<IntakeWrite>(
  'record_activity_created',
  sql`
  with inbox as (${insertInboxRow}), activity as (
    insert into activities (id, contact_id, type, subject, note, due_at, duration_minutes, done,
                            owner_id, owner_email, owner_name, payload_person_id, crm_created_at)
    select ${p('id')}, ${p('contactId')}, ${p('activityType')}, ${p('subject')}, ${p('note')}, ${p('dueAt')},
           ${p('durationMinutes')}::integer, ${p('done')}::boolean, ${p('ownerId')},
           ${p('ownerEmail')}, ${p('ownerName')}, ${p('pipedrivePersonId')}::bigint,
           ${p('createdAt')}::timestamptz
    from inbox
    -- An activity of a deleted contact is recorded in the inbox only.
    where not exists (select 1 from contacts where id = ${p('contactId')} and deleted_at is not null)
    on conflict (id) do nothing
    returning id, contact_id
  ), job as (
    ${enqueueJobs(sql`select ${JOB_TYPES.activityReplicate}, id, contact_id from activity`)}
  )
  select (select count(*) from inbox)::int as inserted, (select count(*) from activity)::int as applied`
)

/**
 * Inbox row, activity and job in one statement (see `writeContactUpdated`). The activity takes the
 * event's state unless it is deleted or has seen a newer update; an activity never seen is created
 * as `activity.created` would create it. Its contact and CRM creation time stay as first stored
 * (the contact's serial key orders the activity's jobs). A new activity is replicated; a known one
 * gets an update job, which patches Pipedrive once it has the activity (docs/sync.md).
 */
const writeActivityUpdated = preparedStatement<IntakeWrite>(
  'record_activity_updated',
  sql`
  with inbox as (${insertInboxRow}), activity as (
    insert into activities (id, contact_id, type, subject, note, due_at, duration_minutes, done,
                            owner_id, owner_email, owner_name, payload_person_id, crm_created_at,
                            source_updated_at)
    select ${p('id')}, ${p('contactId')}, ${p('activityType')}, ${p('subject')}, ${p('note')}, ${p('dueAt')},
           ${p('durationMinutes')}::integer, ${p('done')}::boolean, ${p('ownerId')},
           ${p('ownerEmail')}, ${p('ownerName')}, ${p('pipedrivePersonId')}::bigint,
           ${p('createdAt')}::timestamptz, ${p('updatedAt')}::timestamptz
    from inbox
    -- An activity of a deleted contact is recorded in the inbox only (a known one has deleted_at).
    where not exists (select 1 from contacts where id = ${p('contactId')} and deleted_at is not null)
    on conflict (id) do update set
      type = excluded.type, subject = excluded.subject, note = excluded.note, due_at = excluded.due_at,
      duration_minutes = excluded.duration_minutes, done = excluded.done,
      owner_id = excluded.owner_id, owner_email = excluded.owner_email, owner_name = excluded.owner_name,
      payload_person_id = coalesce(excluded.payload_person_id, activities.payload_person_id),
      source_updated_at = excluded.source_updated_at, updated_at = now()
    where activities.deleted_at is null
      and (activities.source_updated_at is null or activities.source_updated_at <= excluded.source_updated_at)
    returning id, contact_id, xmax = 0 as created
  ), job as (
    ${enqueueJobs(sql`select case when created then ${JOB_TYPES.activityReplicate} else ${JOB_TYPES.activityUpdate} end,
      id, contact_id from activity`)}
  )
  select (select count(*) from inbox)::int as inserted, (select count(*) from activity)::int as applied`
)

/**
 * Inbox row, the activity's deletion mark and its delete job in one statement (see
 * `writeContactUpdated`). Its waiting replication and updates are cancelled here: what has not
 * started never starts. A job running now finishes first (serial key), and the delete job then
 * undoes what it sent. An activity never seen, or deleted before, is recorded only.
 */
const writeActivityDeleted = preparedStatement<IntakeWrite>(
  'record_activity_deleted',
  sql`
  with inbox as (${insertInboxRow}), activity as (
    update activities set deleted_at = ${p('deletedAt')}::timestamptz, updated_at = now()
    from inbox
    where activities.id = ${p('id')} and activities.deleted_at is null
    returning activities.id, activities.contact_id
  ), cancelled as (
    ${cancelWaitingJobs([JOB_TYPES.activityReplicate, JOB_TYPES.activityUpdate], sql`select id from activity`)}
  ), job as (
    ${enqueueJobs(sql`select ${JOB_TYPES.activityDelete}, id, contact_id from activity`)}
  )
  select (select count(*) from inbox)::int as inserted, (select count(*) from activity)::int as applied`
)

/** With `erase`, the text columns of personal data become this (NOT NULL ones) or null: docs/personal-data.md. */
export const ERASED_TEXT = ''

const erase = sql`${p('erase')}::boolean`
/** Events of the contact and of its activities, found by the ids inside their payloads. */
const erasedEventsOf = sql`(type like 'contact.%' and payload->'data'->>'id' = ${p('id')})
  or (type like 'activity.%' and (payload->'data'->>'contactId' = ${p('id')}
    or payload->'data'->>'id' in (select id from activities where contact_id = ${p('id')})))`

/** A sync job of the contact or its activities that has not run or will not run again; the person's delete is not cancelled. */
const cancellable = sql`(type <> ${JOB_TYPES.personDelete} and state in ('pending', 'retrying', 'dead'))`

/**
 * Inbox row, the delete (and the erasure, with `erase`) in one statement (see `writeContactUpdated`):
 * the contact — a row of placeholders for a contact never seen, so later events find the delete —
 * and its activities get `deleted_at`; the contact's waiting and dead jobs (its own and its
 * activities', one serial key) end as `done` — no round runs, and the failures list and retry-dead
 * never see them again; a job running now finishes, its writes refused (src/store/contacts.ts,
 * src/store/activities.ts); with `deletePerson`, a `person.delete` job queues behind it.
 * A contact deleted before is only erased, when `erase` asks it and it was not erased yet.
 */
const writeContactDeleted = preparedStatement<IntakeWrite>(
  'record_contact_deleted',
  sql`
  with inbox as (${insertInboxRow}), prior as (
    select deleted_at from contacts where id = ${p('id')}
  ), contact as (
    insert into contacts (id, name, warmness_score, owner_id, owner_email, source_updated_at,
                          deleted_at, erased_at)
    select ${p('id')}, ${ERASED_TEXT}, 0, ${ERASED_TEXT}, ${ERASED_TEXT}, ${p('deletedAt')}::timestamptz,
           ${p('deletedAt')}::timestamptz, case when ${erase} then now() end
    from inbox
    on conflict (id) do update set
      deleted_at = coalesce(contacts.deleted_at, excluded.deleted_at),
      erased_at = case when ${erase} then coalesce(contacts.erased_at, now()) else contacts.erased_at end,
      name = case when ${erase} then ${ERASED_TEXT} else contacts.name end,
      email = case when ${erase} then null else contacts.email end,
      phone = case when ${erase} then null else contacts.phone end,
      warmness_score = case when ${erase} then 0 else contacts.warmness_score end,
      owner_email = case when ${erase} then ${ERASED_TEXT} else contacts.owner_email end,
      owner_name = case when ${erase} then null else contacts.owner_name end,
      last_error = case when ${erase} then null else contacts.last_error end,
      warning = case when ${erase} then null else contacts.warning end,
      updated_at = now()
    where contacts.deleted_at is null or (${erase} and contacts.erased_at is null)
    returning id
  ), activity as (
    update activities set
      deleted_at = coalesce(activities.deleted_at, ${p('deletedAt')}::timestamptz),
      -- Deleted at once: no Pipedrive call is made for a deleted contact's activities.
      state = 'deleted',
      subject = case when ${erase} then ${ERASED_TEXT} else subject end,
      -- What was last written to Pipedrive holds the subject and note too.
      pushed = case when ${erase} then null else pushed end,
      note = case when ${erase} then null else note end,
      owner_email = case when ${erase} then null else owner_email end,
      owner_name = case when ${erase} then null else owner_name end,
      last_error = case when ${erase} then null else last_error end,
      warning = case when ${erase} then null else warning end,
      updated_at = now()
    where contact_id in (select id from contact)
  ), cancelled as (
    update jobs set
      state = case when ${cancellable} then 'done' else state end,
      finished_at = case when ${cancellable} then now() else finished_at end,
      last_error = case when ${erase} then null else last_error end,
      updated_at = now()
    where serial_key in (select id from contact)
      and (${cancellable} or ${erase})
  ), inbox_erased as (
    update webhook_inbox set payload = jsonb_build_object(
      'type', type, 'erased', true,
      'data', jsonb_strip_nulls(jsonb_build_object(
        'id', payload->'data'->'id', 'contactId', payload->'data'->'contactId')))
    where ${erase} and exists (select 1 from contact) and (${erasedEventsOf})
  ), callbacks_erased as (
    -- Only a failure's error text can carry personal data (a Pipedrive message); ids stay.
    update callback_outbox set last_error = null,
      payload = case when payload->'data' ? 'error'
        then jsonb_set(payload, '{data,error}', to_jsonb(${ERASED_TEXT}::text)) else payload end
    where ${erase} and exists (select 1 from contact) and (
      payload->'data'->>'contactId' = ${p('id')}
      or (payload->'data'->>'entity' = 'contact' and payload->'data'->>'id' = ${p('id')})
      or payload->'data'->>'activityId' in (select id from activities where contact_id = ${p('id')})
      or (payload->'data'->>'entity' = 'activity'
        and payload->'data'->>'id' in (select id from activities where contact_id = ${p('id')})))
  ), person_job as (
    ${enqueueJobs(sql`select ${JOB_TYPES.personDelete}, id, id from contact
      where ${p('deletePerson')}::boolean and not exists (select 1 from prior where deleted_at is not null)`)}
  )
  select (select count(*) from inbox)::int as inserted, (select count(*) from contact)::int as applied`
)

/** Deletes up to `limit` inbox rows received more than `olderThanMs` ago; returns how many. */
export async function deleteInboxRows(
  db: Pick<Executor, 'select' | 'delete'>,
  olderThanMs: number,
  limit: number
): Promise<number> {
  return deleteUpTo(
    db,
    webhookInbox,
    webhookInbox.webhookId,
    lt(webhookInbox.receivedAt, beforeMs(olderThanMs)),
    limit
  )
}

/**
 * `queued`: stored and work enqueued. `stale`: older than the newest update seen, of a deleted
 * contact (a second delete too), or of an activity deleted (or never seen, for `activity.deleted`):
 * recorded only.
 * `known`: the activity was already stored under another webhook id. `duplicate`: webhook id seen before.
 */
export type RecordOutcome = 'queued' | 'stale' | 'known' | 'duplicate'

interface RecordInput<E> {
  webhookId: string
  /** The verified raw body, stored as the inbox payload. */
  rawBody: string
  event: E
}

function outcome(result: IntakeWrite | undefined, notApplied: RecordOutcome): RecordOutcome {
  if (!result || result.inserted === 0) return 'duplicate'
  return result.applied > 0 ? 'queued' : notApplied
}

export async function recordContactUpdated(
  db: Executor,
  { webhookId, rawBody, event }: RecordInput<ContactUpdatedEventT>
): Promise<RecordOutcome> {
  const c = event.data
  const org = c.organization ?? null
  const [result] = await writeContactUpdated(db, {
    webhookId,
    type: event.type,
    rawBody,
    id: c.id,
    name: c.name,
    email: c.email ?? null,
    phone: c.phone ?? null,
    warmnessScore: c.warmnessScore,
    ownerId: c.owner.id,
    ownerEmail: c.owner.email.toLowerCase(),
    ownerName: c.owner.name ?? null,
    pipedrivePersonId: c.pipedrivePersonId ?? null,
    updatedAt: c.updatedAt,
    orgId: org?.id ?? null,
    orgName: org?.name ?? null,
    orgIndustry: org?.industry ?? null,
    orgCountry: org?.country ?? null,
    orgPipedriveId: org?.pipedriveOrgId ?? null
  })
  return outcome(result, 'stale')
}

/** An activity event's data as the activity statements' placeholder values. */
function activityValues(a: ActivityCreatedEventT['data']) {
  return {
    id: a.id,
    contactId: a.contactId,
    activityType: a.type,
    subject: a.subject,
    note: a.note ?? null,
    dueAt: a.dueAt ?? null,
    durationMinutes: a.durationMinutes ?? null,
    done: a.done ?? false,
    ownerId: a.owner?.id ?? null,
    ownerEmail: a.owner?.email.toLowerCase() ?? null,
    ownerName: a.owner?.name ?? null,
    pipedrivePersonId: a.pipedrivePersonId ?? null,
    createdAt: a.createdAt
  }
}

export async function recordActivityCreated(
  db: Executor,
  { webhookId, rawBody, event }: RecordInput<ActivityCreatedEventT>
): Promise<RecordOutcome> {
  const [result] = await writeActivityCreated(db, {
    webhookId,
    type: event.type,
    rawBody,
    ...activityValues(event.data)
  })
  return outcome(result, 'known')
}

export async function recordActivityUpdated(
  db: Executor,
  { webhookId, rawBody, event }: RecordInput<ActivityUpdatedEventT>
): Promise<RecordOutcome> {
  const [result] = await writeActivityUpdated(db, {
    webhookId,
    type: event.type,
    rawBody,
    ...activityValues(event.data),
    updatedAt: event.data.updatedAt
  })
  return outcome(result, 'stale')
}

export async function recordActivityDeleted(
  db: Executor,
  { webhookId, rawBody, event }: RecordInput<ActivityDeletedEventT>
): Promise<RecordOutcome> {
  const [result] = await writeActivityDeleted(db, {
    webhookId,
    type: event.type,
    rawBody,
    id: event.data.id,
    deletedAt: event.data.deletedAt
  })
  return outcome(result, 'stale')
}

/** `deletePerson`: PIPEDRIVE_DELETE_PERSONS, whether the contact's Pipedrive person goes too. */
export async function recordContactDeleted(
  db: Executor,
  { webhookId, rawBody, event, deletePerson }: RecordInput<ContactDeletedEventT> & { deletePerson: boolean }
): Promise<RecordOutcome> {
  const d = event.data
  const [result] = await writeContactDeleted(db, {
    webhookId,
    type: event.type,
    rawBody,
    id: d.id,
    deletedAt: d.deletedAt,
    erase: d.erase ?? false,
    deletePerson
  })
  return outcome(result, 'stale')
}
