import { randomUUID } from 'node:crypto'

/** Users of the sandbox's ready-made company, so owners resolve to Pipedrive users. */
const OWNERS = [
  { id: 'u_owner', email: 'owner@crm.example', name: 'Olive Owner' },
  { id: 'u_sales', email: 'sales@crm.example', name: 'Sam Sales' }
] as const
const ACTIVITY_TYPES = ['CALL', 'EMAIL', 'MEETING', 'LINKEDIN', 'REFERRAL', 'CONFERENCE'] as const
/** Every event's times are offsets from this instant, so `updatedAt`/`createdAt` order is explicit. */
const EPOCH_MS = Date.parse('2026-11-24T09:00:00.000Z')
const WARM_SCORE = 5

/** One webhook as the CRM would send it: the id is kept so a redelivery reuses it. */
export interface Delivery {
  webhookId: string
  event: { type: string; timestamp: string; data: Record<string, unknown> }
}

export interface PlannedContact {
  id: string
  email: string
  organizationName: string
  delivery: Delivery
  activities: PlannedActivity[]
}

export interface PlannedActivity {
  id: string
  contactId: string
  /** Unique per activity: how the audit finds it among the sandbox's activities. */
  subject: string
  delivery: Delivery
}

function delivery(type: string, data: Record<string, unknown>, atMs: number): Delivery {
  return {
    webhookId: `msg_${randomUUID()}`,
    event: { type, timestamp: new Date(atMs).toISOString(), data }
  }
}

export function contactEvent(
  id: string,
  options: {
    organization: { id: string; name: string }
    score?: number
    updatedAtMs?: number
    index?: number
    /** Default `<id>@reliability.test`; null: a contact without email. */
    email?: string | null
    pipedrivePersonId?: number
  }
): Delivery {
  const index = options.index ?? 0
  return delivery(
    'contact.updated',
    {
      id,
      name: `Contact ${id}`,
      email: options.email === undefined ? `${id}@reliability.test` : options.email,
      ...(options.pipedrivePersonId === undefined ? {} : { pipedrivePersonId: options.pipedrivePersonId }),
      phone: `+1555${String(index).padStart(7, '0')}`,
      warmnessScore: options.score ?? WARM_SCORE,
      organization: { ...options.organization, industry: 'Software', country: 'Germany' },
      owner: OWNERS[index % OWNERS.length],
      updatedAt: new Date(options.updatedAtMs ?? EPOCH_MS).toISOString()
    },
    options.updatedAtMs ?? EPOCH_MS
  )
}

export function activityEvent(id: string, contactId: string, index: number): Delivery {
  const createdAtMs = EPOCH_MS + 60_000 + index * 1_000
  return delivery(
    'activity.created',
    {
      id,
      contactId,
      type: ACTIVITY_TYPES[index % ACTIVITY_TYPES.length],
      subject: subjectOf(id),
      note: `<p>Logged for ${contactId}</p>`,
      dueAt: '2026-12-01T10:30:00+02:00',
      durationMinutes: 30,
      done: index % 2 === 0,
      createdAt: new Date(createdAtMs).toISOString()
    },
    createdAtMs
  )
}

export function subjectOf(activityId: string): string {
  return `Reliability ${activityId}`
}

/**
 * `contacts` warm contacts with `activitiesEach` activities each. Organizations are shared by
 * `contactsPerOrganization` contacts, so organizations are found-or-created under concurrency too.
 */
export function planContacts(
  prefix: string,
  contacts: number,
  activitiesEach: number,
  contactsPerOrganization = 1
): PlannedContact[] {
  return Array.from({ length: contacts }, (_, n) => {
    const id = `${prefix}-c${n}`
    const orgIndex = Math.floor(n / contactsPerOrganization)
    const organization = { id: `${prefix}-o${orgIndex}`, name: `${prefix.toUpperCase()} Org ${orgIndex}` }
    const activities = Array.from({ length: activitiesEach }, (_, k) => {
      const activityId = `${id}-a${k}`
      return {
        id: activityId,
        contactId: id,
        subject: subjectOf(activityId),
        delivery: activityEvent(activityId, id, k)
      }
    })
    return {
      id,
      email: `${id}@reliability.test`,
      organizationName: organization.name,
      delivery: contactEvent(id, { organization, index: n }),
      activities
    }
  })
}

/** Every delivery of the plan: each contact's event, then its activities. */
export function deliveriesOf(plan: PlannedContact[]): Delivery[] {
  return plan.flatMap((contact) => [
    contact.delivery,
    ...contact.activities.map((activity) => activity.delivery)
  ])
}
