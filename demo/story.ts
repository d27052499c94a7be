import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CrmDelivery } from '../harness/fake-crm.js'
import { CrmSender, type SentWebhook, type WebhookAnswer } from './crm.js'
import type { Stack } from './stack.js'
import { DemoFailure, type Timeline } from './timeline.js'

/** The `npm run send` examples of the README, so the demo shows the very payloads a newcomer sends by hand. */
function example(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >
}

const ada = { cold: example('contact-cold.json'), warm: example('contact-warm.json') }
const adaCall = example('activity-call.json')
const grace = {
  id: 'c_grace',
  name: 'Grace Hopper',
  email: 'grace@flow-matic.example',
  phone: '+1 202 555 0143',
  warmnessScore: 5,
  organization: { id: 'o_flowmatic', name: 'Flow-Matic Compilers Inc', industry: 'Software', country: 'US' },
  owner: { id: 'u_sales', email: 'sales@crm.example', name: 'Sam Sales' }
}
const graceMeeting = {
  id: 'a_meeting_1',
  contactId: 'c_grace',
  type: 'MEETING',
  subject: 'Compiler workshop',
  note: 'Bring the A-0 tapes.',
  // A date alone: an all-day activity, no time in Pipedrive.
  dueAt: '2026-12-01',
  durationMinutes: 90,
  owner: null
}

export interface ContactStatus {
  state: string
  pipedrivePersonId?: string
  pipedriveOrgId?: string
  attempts: number
  lastError?: string
  warning?: string
}

export interface ActivityStatus {
  state: string
  synced: boolean
  pipedriveActivityId?: string
  syncAttempts: number
  lastError?: string
  warning?: string
}

interface Failure {
  jobId: string
  entity: string
  id: string
  state: string
  attempts: number
  lastError: string | null
}

/** The operator API over HTTP, with the key, as an operator's script would call it. */
export class OperatorApi {
  constructor(
    readonly url: string,
    readonly key: string
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.status, body: (await response.json()) as T }
  }

  async contact(id: string): Promise<ContactStatus> {
    return (await this.call<ContactStatus>('GET', `/api/contacts/${id}/sync-status`)).body
  }

  async activity(id: string): Promise<ActivityStatus> {
    return (await this.call<ActivityStatus>('GET', `/api/activities/${id}/sync-status`)).body
  }
}

const brief = (value: unknown) => JSON.stringify(value)
const clip = (text: string, length = 100) => (text.length > length ? `${text.slice(0, length - 1)}…` : text)

function contactLine(id: string, status: ContactStatus): string {
  const ids = status.pipedrivePersonId
    ? `, person ${status.pipedrivePersonId}, org ${status.pipedriveOrgId}`
    : ''
  const error = status.lastError ? `, lastError "${clip(status.lastError)}"` : ''
  const warning = status.warning ? `, warning "${clip(status.warning)}"` : ''
  return `GET sync-status ${id} → ${status.state}${ids}, attempts ${status.attempts}${error}${warning}`
}

function activityLine(id: string, status: ActivityStatus): string {
  const replica = status.pipedriveActivityId ? `, Pipedrive activity ${status.pipedriveActivityId}` : ''
  const error = status.lastError ? `, lastError "${clip(status.lastError)}"` : ''
  return `GET sync-status ${id} → ${status.state}${replica}, syncAttempts ${status.syncAttempts}${error}`
}

/** The story of the brief, step by step. Throws DemoFailure when a step it builds on did not happen. */
export async function playStory(stack: Stack, t: Timeline): Promise<void> {
  const crm = new CrmSender(stack.serviceUrl, stack.webhookSecret)
  const operator = new OperatorApi(stack.serviceUrl, stack.operatorKey)
  const { sandbox } = stack
  const callbacks = stack.crm.deliveries
  // The account's own "Warm lead" label, before the service touches anything: it must be reused.
  const accountWarmLabels = warmLabels(stack)

  const send = async (type: string, data: Record<string, unknown>, what: string) => {
    const message = crm.event(type, { ...data })
    const answer = await crm.deliver(message)
    t.say('CRM → service', `${type} ${what} → ${answer.status} ${brief(answer.body)}`)
    if (answer.status !== 202)
      throw new DemoFailure(`${type} ${what}: answered ${answer.status}, expected 202`)
    return message
  }
  const redeliver = async (message: SentWebhook, what: string): Promise<WebhookAnswer> => {
    const answer = await crm.deliver(message)
    t.say(
      'CRM → service',
      `the same ${what} again (webhook-id ${message.id}) → ${answer.status} ${brief(answer.body)}`
    )
    return answer
  }
  const contactState = async (id: string, wanted: (status: ContactStatus) => boolean, what: string) => {
    const status = await t.waitFor<ContactStatus>(`contact ${id} ${what}`, async () => {
      const current = await operator.contact(id)
      return wanted(current) ? { value: current } : { seen: brief(current) }
    })
    t.say('operator', contactLine(id, status))
    return status
  }
  const activityState = async (id: string, wanted: (status: ActivityStatus) => boolean, what: string) => {
    const status = await t.waitFor<ActivityStatus>(`activity ${id} ${what}`, async () => {
      const current = await operator.activity(id)
      return wanted(current) ? { value: current } : { seen: brief(current) }
    })
    t.say('operator', activityLine(id, status))
    return status
  }
  const callback = (what: string, match: (callback: CrmDelivery) => boolean) =>
    t.expectWithin<CrmDelivery>(`callback ${what} received`, async () => {
      const found = callbacks.find((candidate) => !candidate.redelivery && match(candidate))
      return found ? { value: found } : { seen: callbacks.map((c) => c.type).join(', ') || 'no callback' }
    })
  /** No job pending or running: read from /metrics (no key, no rate limit), as a monitor would. */
  const queueIdle = (what: string) =>
    t.waitFor<boolean>(`queue idle ${what}`, async () => {
      const text = await (await fetch(`${stack.serviceUrl}/metrics`)).text()
      const count = (state: string) =>
        Number(new RegExp(`^pipedrive_sync_jobs\\{state="${state}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
      const busy = count('pending') + count('running')
      return busy === 0 ? { value: true } : { seen: `${busy} jobs pending or running` }
    })

  // 1 ────────────────────────────────────────────────────────────────────────────────────────────
  t.heading('1. A cold contact arrives (warmness score 2, threshold 4)')
  let mark = t.lastPipedriveSeq()
  await send('contact.updated', ada.cold, `${ada.cold.id} "${ada.cold.name}" score ${ada.cold.warmnessScore}`)
  await queueIdle('after the cold contact')
  const cold = await contactState(String(ada.cold.id), () => true, 'readable')
  t.check(cold.state === 'not_warm', 'state not_warm', `state ${cold.state}, expected not_warm`)
  t.check(
    t.pipedriveSince(mark).length === 0,
    'no Pipedrive request: a cold contact stays in the CRM',
    `${t.pipedriveSince(mark).length} Pipedrive requests for a cold contact`
  )

  // 2 ────────────────────────────────────────────────────────────────────────────────────────────
  t.heading('2. An activity is logged for it: no Pipedrive person yet, so it waits')
  mark = t.lastPipedriveSeq()
  await send('activity.created', adaCall, `${adaCall.id} ${adaCall.type} "${adaCall.subject}"`)
  await activityState(String(adaCall.id), (s) => s.state === 'waiting_for_person', 'waiting_for_person')
  t.check(t.pipedriveSince(mark).length === 0, 'no Pipedrive request while it waits')

  // 3 ────────────────────────────────────────────────────────────────────────────────────────────
  t.heading('3. The score rises to 4: organization, person and label in Pipedrive; the waiting call follows')
  mark = t.lastPipedriveSeq()
  await send('contact.updated', ada.warm, `${ada.warm.id} score ${ada.warm.warmnessScore}`)
  const adaSynced = await contactState(String(ada.warm.id), (s) => s.state === 'synced', 'synced')
  const callSynced = await activityState(String(adaCall.id), (s) => s.state === 'synced', 'synced')
  await queueIdle('after the warm lead')
  await callback(`pipedrive.person.synced for ${ada.warm.id}`, (c) => c.data.contactId === ada.warm.id)
  await callback(`pipedrive.activity.synced for ${adaCall.id}`, (c) => c.data.activityId === adaCall.id)
  checkWarmLead(t, stack, ada.warm, adaSynced, 1001, accountWarmLabels)
  checkActivity(t, stack, adaCall, callSynced, adaSynced)

  // 4 ────────────────────────────────────────────────────────────────────────────────────────────
  t.heading('4. Outage: Pipedrive is down; the CRM keeps sending')
  sandbox.faults.set({ down: true })
  t.say(
    'demo',
    'sandbox.faults.set({ down: true }): every Pipedrive request now gets a 503 from "the gateway"'
  )
  const graceUpdate = await send(
    'contact.updated',
    grace,
    `${grace.id} "${grace.name}" score ${grace.warmnessScore}`
  )
  const meetingCreated = await send(
    'activity.created',
    graceMeeting,
    `${graceMeeting.id} ${graceMeeting.type} "${graceMeeting.subject}"`
  )
  const asked = Date.now()
  const checked = await operator.call<Record<string, unknown>>(
    'POST',
    `/api/contacts/${grace.id}/check-warm-lead`,
    {}
  )
  const took = ((Date.now() - asked) / 1000).toFixed(1)
  t.say(
    'operator',
    `POST check-warm-lead ${grace.id} → ${checked.status} ${brief(checked.body)} after ${took} s`
  )
  t.check(
    checked.body.queued === true,
    'check-warm-lead answers queued: true',
    `check-warm-lead: ${brief(checked.body)}`
  )
  const retrying = await contactState(
    grace.id,
    (s) => s.state === 'retrying' && !!s.lastError,
    'retrying with lastError'
  )
  t.check(!!retrying.lastError, 'sync-status: retrying, lastError says what Pipedrive answered')
  const meeting = await operator.activity(graceMeeting.id)
  t.say('operator', `${activityLine(graceMeeting.id, meeting)} (its turn comes after the contact's job)`)
  await callback(
    `pipedrive.sync.failed for ${grace.id}`,
    (c) => c.type === 'pipedrive.sync.failed' && c.data.id === grace.id
  )

  // 5 ────────────────────────────────────────────────────────────────────────────────────────────
  t.heading('5. Recovery: Pipedrive is back; the operator replays the job, the queue finishes')
  sandbox.faults.clear()
  t.say('demo', 'sandbox.faults.clear(): Pipedrive answers again')
  const failures = await operator.call<{ items: Failure[] }>('GET', '/api/sync/failures?limit=20')
  for (const item of failures.body.items) {
    t.say(
      'operator',
      `GET /api/sync/failures → job ${item.jobId}: ${item.entity} ${item.id} ${item.state}, ` +
        `round ${item.attempts}, "${clip(String(item.lastError))}"`
    )
  }
  const failed = failures.body.items.find((item) => item.entity === 'contact' && item.id === grace.id)
  if (failed) {
    const retried = await operator.call('POST', `/api/sync/jobs/${failed.jobId}/retry`)
    // 409: the backoff got there first and the job is running its next round — just as good.
    t.say('operator', `POST /api/sync/jobs/${failed.jobId}/retry → ${retried.status} ${brief(retried.body)}`)
  } else {
    t.say('operator', `GET /api/sync/failures → ${brief(failures.body)} (the backoff got there first)`)
  }
  const graceSynced = await contactState(grace.id, (s) => s.state === 'synced', 'synced after the outage')
  const meetingSynced = await activityState(graceMeeting.id, (s) => s.state === 'synced', 'synced')
  await queueIdle('after the recovery')
  await callback(`pipedrive.person.synced for ${grace.id}`, (c) => c.data.contactId === grace.id)
  await callback(
    `pipedrive.activity.synced for ${graceMeeting.id}`,
    (c) => c.data.activityId === graceMeeting.id
  )
  checkWarmLead(t, stack, grace, graceSynced, 1002, accountWarmLabels)
  checkActivity(t, stack, graceMeeting, meetingSynced, graceSynced)

  // 6 ────────────────────────────────────────────────────────────────────────────────────────────
  t.heading('6. The CRM redelivers webhooks it already sent (same webhook-id)')
  mark = t.lastPipedriveSeq()
  const callbacksBefore = callbacks.length
  for (const [message, what] of [
    [graceUpdate, `contact.updated ${grace.id}`],
    [meetingCreated, `activity.created ${graceMeeting.id}`]
  ] as const) {
    const answer = await redeliver(message, what)
    t.check(
      answer.status === 200 && answer.body.duplicate === true,
      '200 duplicate',
      `redelivered ${what}: ${answer.status} ${brief(answer.body)}, expected 200 duplicate`
    )
  }
  await queueIdle('after the redeliveries')
  // The callback loop polls every second: give a stray callback the time to show up.
  await sleep(1_500)
  t.check(t.pipedriveSince(mark).length === 0, 'nothing new in Pipedrive', 'Pipedrive was called again')
  t.check(callbacks.length === callbacksBefore, 'no new callback', 'a callback was sent for a duplicate')

  // 7 ────────────────────────────────────────────────────────────────────────────────────────────
  t.heading('7. In the CRM the call is rescheduled and done, and the meeting is deleted')
  mark = t.lastPipedriveSeq()
  const rescheduled = { ...adaCall, dueAt: '2026-11-27T09:00:00Z', done: true }
  await send('activity.updated', rescheduled, `${adaCall.id} due ${rescheduled.dueAt}, done`)
  await callback(
    `pipedrive.activity.updated for ${adaCall.id}`,
    (c) => c.type === 'pipedrive.activity.updated' && c.data.activityId === adaCall.id
  )
  await send('activity.deleted', { id: graceMeeting.id, contactId: grace.id }, graceMeeting.id)
  const meetingDeleted = await activityState(graceMeeting.id, (s) => s.state === 'deleted', 'deleted')
  await callback(
    `pipedrive.activity.deleted for ${graceMeeting.id}`,
    (c) => c.type === 'pipedrive.activity.deleted' && c.data.activityId === graceMeeting.id
  )
  await queueIdle('after the changes')
  const calls = t.pipedriveSince(mark).map((entry) => `${entry.method} ${entry.path.split('?')[0]}`)
  const callId = callSynced.pipedriveActivityId
  t.check(
    calls.length === 2 &&
      calls[0] === `PATCH /api/v2/activities/${callId}` &&
      calls[1] === `DELETE /api/v2/activities/${meetingDeleted.pipedriveActivityId}`,
    `exactly two Pipedrive calls: ${calls.join(', ')}`,
    `Pipedrive calls: ${calls.join(', ') || 'none'}, expected one PATCH and one DELETE`
  )
  const replica = sandbox.store.activities.find((a) => String(a.id) === callId)
  t.check(
    replica?.due_date === '2026-11-27' && replica.due_time === '09:00' && replica.done === true,
    `Pipedrive activity ${callId}: due ${replica?.due_date} ${replica?.due_time} UTC, done`,
    `Pipedrive activity ${callId}: ${brief(replica)}`
  )
  t.check(
    !sandbox.store.activities.some((a) => String(a.id) === meetingDeleted.pipedriveActivityId),
    `Pipedrive activity ${meetingDeleted.pipedriveActivityId} (the meeting) is gone from Pipedrive`,
    `Pipedrive still has activity ${meetingDeleted.pipedriveActivityId}`
  )
}

function warmLabels(stack: Stack) {
  return (stack.sandbox.store.labelField().options ?? []).filter((option) =>
    /^warm lead$/i.test(option.label)
  )
}

function checkWarmLead(
  t: Timeline,
  stack: Stack,
  contact: Record<string, unknown>,
  status: ContactStatus,
  ownerId: number,
  accountWarmLabels: ReturnType<typeof warmLabels>
): void {
  const { store } = stack.sandbox
  const organization = contact.organization as { name: string; industry?: string }
  const person = store.persons.find((candidate) => String(candidate.id) === status.pipedrivePersonId)
  const org = store.organizations.find((candidate) => String(candidate.id) === status.pipedriveOrgId)
  const labels = warmLabels(stack)
  t.check(
    org?.name === organization.name,
    `Pipedrive organization ${org?.id} "${org?.name}"`,
    `no Pipedrive organization "${organization.name}" with id ${status.pipedriveOrgId}`
  )
  t.check(
    !!person && person.org_id === org?.id && person.emails.some((email) => email.value === contact.email),
    `Pipedrive person ${person?.id} "${person?.name}" <${String(contact.email)}> in that organization`,
    `Pipedrive person ${status.pipedrivePersonId}: ${brief(person)}`
  )
  const label = accountWarmLabels[0]
  t.check(
    accountWarmLabels.length === 1 &&
      labels.length === 1 &&
      labels[0]?.id === label?.id &&
      !!label &&
      !!person?.label_ids.includes(label.id),
    `label "${label?.label}" (id ${label?.id}, the account's own) on the person — reused, not duplicated`,
    `warm labels in the account: ${brief(labels)} (at the start: ${brief(accountWarmLabels)}); ` +
      `person labels ${brief(person?.label_ids)}`
  )
  checkIndustry(t, stack, organization.industry, org?.industry ?? null, status)
  const owner = store.users.find((user) => user.id === person?.owner_id)
  t.check(
    person?.owner_id === ownerId,
    `owner ${owner?.id} ${owner?.name} (the CRM owner ${String((contact.owner as { email: string }).email)})`,
    `person owner ${person?.owner_id}, expected ${ownerId}`
  )
}

/**
 * The CRM's industry is the option of Pipedrive's standard industry field with that label; one the
 * account does not offer is left out, and the sync status says so.
 */
function checkIndustry(
  t: Timeline,
  stack: Stack,
  industry: string | undefined,
  sent: number | null,
  status: ContactStatus
): void {
  if (!industry) return
  const option = industryOptions(stack).find(
    (candidate) => candidate.label.toLowerCase() === industry.toLowerCase()
  )
  if (option) {
    t.check(
      sent === option.id,
      `industry "${industry}" on the organization: option ${option.id} "${option.label}" of Pipedrive's industry field`,
      `organization industry ${sent}, expected option ${option.id} ("${option.label}")`
    )
    return
  }
  t.check(
    sent === null && !!status.warning?.includes(`industry "${industry}" left out`),
    `industry "${industry}" is not an option of the account's industry field: left out, with a warning on the sync status`,
    `organization industry ${sent}, warning ${brief(status.warning)}`
  )
}

/** The options of the account's standard industry field. */
export function industryOptions(stack: Stack) {
  return (
    stack.sandbox.store.organizationFields.find((field) => field.field_code === 'industry')?.options ?? []
  )
}

function checkActivity(
  t: Timeline,
  stack: Stack,
  activity: Record<string, unknown>,
  status: ActivityStatus,
  contact: ContactStatus
): void {
  const replica = stack.sandbox.store.activities.find((a) => String(a.id) === status.pipedriveActivityId)
  const dueAt = String(activity.dueAt)
  // Independent of the service's own conversion: a date stays a date, a date-time becomes UTC.
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(dueAt)
  const utc = dateOnly ? undefined : new Date(dueAt).toISOString()
  const dueDate = utc ? utc.slice(0, 10) : dueAt
  const dueTime = utc ? utc.slice(11, 16) : null
  const type = { CALL: 'call', MEETING: 'meeting' }[String(activity.type)]
  t.check(
    !!replica &&
      replica.type === type &&
      replica.due_date === dueDate &&
      replica.due_time === dueTime &&
      replica.participants.some((p) => String(p.person_id) === contact.pipedrivePersonId),
    `Pipedrive activity ${replica?.id}: ${replica?.type}, due ${replica?.due_date} ` +
      `${replica?.due_time ? `${replica.due_time} UTC` : 'all day'}` +
      ` (sent as ${dueAt}), on person ${contact.pipedrivePersonId}`,
    `Pipedrive activity ${status.pipedriveActivityId}: ${brief(replica)}, expected ${type} ${dueDate} ${dueTime}`
  )
}

export const storyRecords = {
  contacts: [
    { id: String(ada.warm.id), email: String(ada.warm.email) },
    { id: grace.id, email: grace.email }
  ],
  activities: [String(adaCall.id), graceMeeting.id]
}
