import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid
} from 'drizzle-orm/pg-core'
import type { ActivityUpdate } from '../pipedrive/schemas.js'
import type { ActivityState, ContactState } from '../schemas/operator-api.js'

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()
/**
 * Pipedrive ids are integers without a documented bound: 64-bit columns. Values stay JavaScript
 * numbers, so the service accepts ids up to 2^53 − 1 (the largest a JSON number carries exactly).
 */
const pipedriveId = (name: string) => bigint(name, { mode: 'number' })

/** CRM users that own contacts, keyed by email: the owner's Pipedrive user id and own token live here. */
export const users = pgTable('users', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  crmId: text('crm_id'),
  email: text('email').notNull().unique(),
  name: text('name'),
  pipedriveUserId: pipedriveId('pipedrive_user_id'),
  /** AES-256-GCM: ciphertext, 12-byte IV and 16-byte tag, each base64. */
  apiTokenCiphertext: text('api_token_ciphertext'),
  apiTokenIv: text('api_token_iv'),
  apiTokenTag: text('api_token_tag'),
  createdAt: createdAt(),
  updatedAt: updatedAt()
})

export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  industry: text('industry'),
  country: text('country'),
  pipedriveOrgId: pipedriveId('pipedrive_org_id'),
  createdAt: createdAt(),
  updatedAt: updatedAt()
})

/**
 * `contacts.sync_state` while a person create may have been sent, beyond the status model's
 * values (it shows them as `pending`, or the job's `retrying`/`dead`). Which one says whether the
 * create carried an email: only then can a later round look the person up — the contact's email
 * may have been added since, and a look-up by it would miss a person created without one.
 */
export const PERSON_SENDING_STATE = 'sending_person'
export const PERSON_SENDING_WITHOUT_EMAIL_STATE = 'sending_person_without_email'

/** What `contacts.sync_state` holds: the handler's word; `retrying` and `dead` are the queue's (jobs). */
export type ContactSyncState =
  | Exclude<ContactState, 'retrying' | 'dead'>
  | typeof PERSON_SENDING_STATE
  | typeof PERSON_SENDING_WITHOUT_EMAIL_STATE

/**
 * `activities.state` once a create may have been sent (set before the first one), so every later
 * round looks in Pipedrive before creating — also after a crash that lost the attempt count. The
 * status model shows it as `pending` (or the job's `retrying`/`dead`).
 */
export const ACTIVITY_SENDING_STATE = 'sending'

/** What `activities.state` holds: the handler's word; `retrying` and `dead` are the queue's (jobs). */
export type ActivityRecordState = Exclude<ActivityState, 'retrying' | 'dead'> | typeof ACTIVITY_SENDING_STATE

/** The Pipedrive fields an `activity.updated` may change (docs/sync.md); the rest are never patched. */
export const ACTIVITY_PUSHED_FIELDS = [
  'subject',
  'type',
  'due_date',
  'due_time',
  'duration',
  'note',
  'done',
  'owner_id'
] as const satisfies readonly (keyof ActivityUpdate)[]
export type ActivityPushedField = (typeof ACTIVITY_PUSHED_FIELDS)[number]
/** Those fields as last written to Pipedrive. */
export type PushedActivity = Pick<ActivityUpdate, ActivityPushedField>

export const contacts = pgTable('contacts', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email'),
  phone: text('phone'),
  warmnessScore: doublePrecision('warmness_score').notNull(),
  ownerId: text('owner_id').notNull(),
  ownerEmail: text('owner_email').notNull(),
  ownerName: text('owner_name'),
  organizationId: text('organization_id'),
  pipedrivePersonId: pipedriveId('pipedrive_person_id'),
  pipedriveOrgId: pipedriveId('pipedrive_org_id'),
  /**
   * Set just before the person's create request leaves: a later round that finds it set knows a
   * person may exist already (the answer can be lost) and looks before it creates again.
   */
  personCreateSentAt: timestamp('person_create_sent_at', { withTimezone: true }),
  /** Newest `updatedAt` seen from the CRM: older events are recorded in the inbox and ignored. */
  sourceUpdatedAt: timestamp('source_updated_at', { withTimezone: true }).notNull(),
  syncState: text('sync_state').$type<ContactSyncState>().notNull().default('pending'),
  /** The CRM deleted the contact (`contact.deleted`): later events for it are recorded and ignored. */
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
  /** Its personal data was erased (`contact.deleted` with `erase`): only ids, states and times remain. */
  erasedAt: timestamp('erased_at', { withTimezone: true }),
  lastError: text('last_error'),
  warning: text('warning'),
  createdAt: createdAt(),
  updatedAt: updatedAt()
})

export const activities = pgTable(
  'activities',
  {
    id: text('id').primaryKey(),
    contactId: text('contact_id').notNull(),
    type: text('type').notNull(),
    subject: text('subject').notNull(),
    note: text('note'),
    /** As received: an ISO date-time with offset, or a date alone. */
    dueAt: text('due_at'),
    durationMinutes: integer('duration_minutes'),
    done: boolean('done').notNull().default(false),
    ownerId: text('owner_id'),
    ownerEmail: text('owner_email'),
    ownerName: text('owner_name'),
    /** The person id the CRM sent with the activity, used when the contact has no mapping. */
    payloadPersonId: pipedriveId('payload_person_id'),
    crmCreatedAt: timestamp('crm_created_at', { withTimezone: true }).notNull(),
    pipedriveActivityId: pipedriveId('pipedrive_activity_id'),
    replicatedToPipedrive: boolean('replicated_to_pipedrive').notNull().default(false),
    pipedriveSyncAttempts: integer('pipedrive_sync_attempts').notNull().default(0),
    lastPipedriveSyncAttempt: timestamp('last_pipedrive_sync_attempt', { withTimezone: true }),
    state: text('state').$type<ActivityRecordState>().notNull().default('pending'),
    /** The CRM deleted the activity, or its contact: later events for it are recorded and ignored. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    /** Newest `updatedAt` of an `activity.updated` seen (null: none yet); older ones are ignored. */
    sourceUpdatedAt: timestamp('source_updated_at', { withTimezone: true }),
    /** The tracked fields as last written to Pipedrive (by the create or a PATCH): a PATCH sends only what differs. */
    pushed: jsonb('pushed').$type<PushedActivity>(),
    /** The fields the last PATCH carried (sync-status `fields`); null before any. */
    pushedFields: jsonb('pushed_fields').$type<ActivityPushedField[]>(),
    lastError: text('last_error'),
    warning: text('warning'),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (table) => [index('activities_contact_idx').on(table.contactId, table.crmCreatedAt)]
)

export const webhookInbox = pgTable('webhook_inbox', {
  // The sender's id is the key: one index to update per intake write, not two (a surrogate id beside it).
  webhookId: text('webhook_id').primaryKey(),
  type: text('type').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  payload: jsonb('payload').notNull()
})

/** `replayed`: a dead job an operator ran again; the replay is a new job, this row its history. */
export const JOB_STATES = ['pending', 'running', 'retrying', 'done', 'dead', 'replayed'] as const
export type JobState = (typeof JOB_STATES)[number]

export const jobs = pgTable(
  'jobs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    type: text('type').notNull(),
    entityId: text('entity_id').notNull(),
    /** Jobs sharing a key (a contact) run one at a time, oldest first. */
    serialKey: text('serial_key').notNull(),
    state: text('state').$type<JobState>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lockToken: uuid('lock_token'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt()
  },
  (table) => [
    // One waiting job per entity: later events coalesce into it (handlers read the latest snapshot).
    uniqueIndex('jobs_waiting_entity_uq')
      .on(table.type, table.entityId)
      .where(sql`${table.state} in ('pending', 'retrying')`),
    // The database itself refuses a second running job for one key, whatever the claim query does.
    uniqueIndex('jobs_running_key_uq').on(table.serialKey).where(sql`${table.state} = 'running'`),
    index('jobs_active_key_idx')
      .on(table.serialKey, table.id)
      .where(sql`${table.state} in ('pending', 'retrying', 'running')`),
    index('jobs_failed_idx').on(table.failedAt).where(sql`${table.state} in ('retrying', 'dead')`)
  ]
)

/**
 * Callbacks to the CRM (docs/interface.md), written in the same transaction as the state change they
 * report; `webhook_id` stays the same across delivery retries.
 */
export const callbackOutbox = pgTable(
  'callback_outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    webhookId: text('webhook_id').notNull().unique(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    gaveUpAt: timestamp('gave_up_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt()
  },
  (table) => [
    index('callback_outbox_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`${table.deliveredAt} is null and ${table.gaveUpAt} is null`)
  ]
)

/**
 * The Pipedrive budget of a token shared by every instance: one row per allowed request in a
 * window. A slot can be taken once its last use is a full window old, so no window ever holds
 * more requests than there are slots, whichever instance sends them.
 */
export const rateSlots = pgTable(
  'rate_slots',
  {
    tokenKey: text('token_key').notNull(),
    kind: text('kind').notNull(),
    slot: integer('slot').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }).notNull().defaultNow()
  },
  (table) => [primaryKey({ columns: [table.tokenKey, table.kind, table.slot] })]
)

/** A token paused by Pipedrive (429 `retry-after`, `x-ratelimit-remaining: 0`), for every instance. */
export const ratePauses = pgTable('rate_pauses', {
  tokenKey: text('token_key').primaryKey(),
  pausedUntil: timestamp('paused_until', { withTimezone: true }).notNull()
})

/**
 * Short named leases for work that must happen once across every instance and token: creating
 * the "Warm Lead" label, finding or creating an organization (`organization:<id>`). The holder's
 * token and when the lease ends if it is not renewed.
 */
export const leases = pgTable('leases', {
  name: text('name').primaryKey(),
  token: uuid('token').notNull(),
  until: timestamp('until', { withTimezone: true }).notNull()
})
