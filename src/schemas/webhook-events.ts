import './formats.js'
import { type Static, type TSchema, Type } from '@sinclair/typebox'

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const CrmId = Type.String({ minLength: 1, maxLength: 128 })
const DateTime = Type.String({ format: 'date-time', description: 'ISO 8601 date-time with offset' })
const Email = Type.String({ format: 'email', maxLength: 254 })
// Stored in 64-bit columns and handled as JavaScript numbers: above 2^53 − 1 a JSON number is no
// longer exact, so such an id is refused (400) rather than stored as a neighbouring one.
const PipedriveId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
// The column is 32-bit; Pipedrive takes durations as HH:MM, so no real duration comes near it.
const MAX_DURATION_MINUTES = 2 ** 31 - 1

export const CrmUser = Type.Object({
  id: CrmId,
  email: Email,
  name: Type.Optional(Nullable(Type.String({ maxLength: 255 })))
})

export const CrmOrganization = Type.Object({
  id: CrmId,
  name: Type.String({ minLength: 1, maxLength: 255 }),
  industry: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  country: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  pipedriveOrgId: Type.Optional(Nullable(PipedriveId))
})

export const ContactData = Type.Object({
  id: CrmId,
  name: Type.String({ minLength: 1, maxLength: 255 }),
  email: Type.Optional(Nullable(Email)),
  phone: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  warmnessScore: Type.Number({ minimum: 0 }),
  pipedrivePersonId: Type.Optional(Nullable(PipedriveId)),
  organization: Type.Optional(Nullable(CrmOrganization)),
  owner: CrmUser,
  updatedAt: DateTime
})

export const CRM_ACTIVITY_TYPES = ['CALL', 'EMAIL', 'MEETING', 'LINKEDIN', 'REFERRAL', 'CONFERENCE'] as const

export const ActivityData = Type.Object({
  id: CrmId,
  contactId: CrmId,
  type: Type.Union(CRM_ACTIVITY_TYPES.map((type) => Type.Literal(type))),
  subject: Type.String({ minLength: 1, maxLength: 255 }),
  note: Type.Optional(Nullable(Type.String())),
  dueAt: Type.Optional(Nullable(Type.Union([DateTime, Type.String({ format: 'date' })]))),
  durationMinutes: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: MAX_DURATION_MINUTES }))),
  done: Type.Optional(Type.Boolean()),
  owner: Type.Optional(Nullable(CrmUser)),
  pipedrivePersonId: Type.Optional(Nullable(PipedriveId)),
  createdAt: DateTime
})

/** The activity's whole current state, as of `updatedAt`. */
export const ActivityUpdatedData = Type.Object({ ...ActivityData.properties, updatedAt: DateTime })

export const ActivityDeletedData = Type.Object({ id: CrmId, contactId: CrmId, deletedAt: DateTime })

/** What every event shares; `data` is checked only for the types this service handles. */
export const EventEnvelope = Type.Object({
  type: Type.String({ minLength: 1 }),
  timestamp: DateTime,
  data: Type.Unknown()
})

export const ContactUpdatedEvent = Type.Object({
  type: Type.Literal('contact.updated'),
  timestamp: DateTime,
  data: ContactData
})

export const ActivityCreatedEvent = Type.Object({
  type: Type.Literal('activity.created'),
  timestamp: DateTime,
  data: ActivityData
})

export const ActivityUpdatedEvent = Type.Object({
  type: Type.Literal('activity.updated'),
  timestamp: DateTime,
  data: ActivityUpdatedData
})

export const ActivityDeletedEvent = Type.Object({
  type: Type.Literal('activity.deleted'),
  timestamp: DateTime,
  data: ActivityDeletedData
})

export const ContactDeletedData = Type.Object({
  id: CrmId,
  deletedAt: DateTime,
  /** true: the contact's personal data is erased too, keeping only ids, states and times (docs/personal-data.md). */
  erase: Type.Optional(Type.Boolean())
})

export const ContactDeletedEvent = Type.Object({
  type: Type.Literal('contact.deleted'),
  timestamp: DateTime,
  data: ContactDeletedData
})

/** Every event type the service handles, with its schema (any other type is answered 202 ignored). */
export const HANDLED_EVENTS = {
  'contact.updated': ContactUpdatedEvent,
  'contact.deleted': ContactDeletedEvent,
  'activity.created': ActivityCreatedEvent,
  'activity.updated': ActivityUpdatedEvent,
  'activity.deleted': ActivityDeletedEvent
}
export type HandledEventType = keyof typeof HANDLED_EVENTS

export type ContactUpdatedEventT = Static<typeof ContactUpdatedEvent>
export type ContactDeletedEventT = Static<typeof ContactDeletedEvent>
export type ActivityCreatedEventT = Static<typeof ActivityCreatedEvent>
export type ActivityUpdatedEventT = Static<typeof ActivityUpdatedEvent>
export type ActivityDeletedEventT = Static<typeof ActivityDeletedEvent>
export type CrmActivityType = (typeof CRM_ACTIVITY_TYPES)[number]
