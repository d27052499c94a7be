import type { Executor } from '../db/database.js'
import type { ActivityCreatedEventT, ContactUpdatedEventT } from '../schemas/webhook-events.js'
import { type IntakeWrite, writeActivityCreated, writeContactUpdated } from '../store/intake.js'

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

export async function recordActivityCreated(
  db: Executor,
  { webhookId, rawBody, event }: RecordInput<ActivityCreatedEventT>
): Promise<RecordOutcome> {
  const a = event.data
  const [result] = await writeActivityCreated(db, {
    webhookId,
    type: event.type,
    rawBody,
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
  })
  return outcome(result, 'known')
}
