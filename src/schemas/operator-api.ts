import { type Static, Type } from '@sinclair/typebox'

const IdParam = Type.String({ minLength: 1, maxLength: 128 })
export const ContactParams = Type.Object({ id: IdParam })
export const ActivityParams = Type.Object({ id: IdParam })

/** Pipedrive ids are strings in operator answers (as the operator API has always answered), except `pipedriveUserId`. */
const PipedriveIdString = Type.String({ pattern: '^[0-9]+$' })

export const ApiFailure = Type.Object({ success: Type.Literal(false), error: Type.String() })

/** A contact's sync state as operators see it (docs/interface.md). */
export const CONTACT_STATES = [
  'not_warm',
  'pending',
  'retrying',
  'synced',
  'dead',
  'skipped',
  'deleted'
] as const
export const ContactState = Type.Union(CONTACT_STATES.map((state) => Type.Literal(state)))
export type ContactState = Static<typeof ContactState>

/** An activity's sync state as operators see it (docs/interface.md). */
export const ACTIVITY_STATES = [
  'pending',
  'waiting_for_person',
  'retrying',
  'synced',
  'dead',
  'skipped',
  'deleted'
] as const
export const ActivityState = Type.Union(ACTIVITY_STATES.map((state) => Type.Literal(state)))
export type ActivityState = Static<typeof ActivityState>

export const ContactSyncStatus = Type.Object({
  success: Type.Literal(true),
  isWarmLead: Type.Boolean(),
  state: ContactState,
  pipedrivePersonId: Type.Optional(PipedriveIdString),
  pipedriveOrgId: Type.Optional(PipedriveIdString),
  attempts: Type.Integer({ minimum: 0 }),
  lastAttempt: Type.Optional(Type.String({ format: 'date-time' })),
  lastError: Type.Optional(Type.String()),
  warning: Type.Optional(Type.String()),
  /** Only for a deleted contact: whether its personal data was erased. */
  erased: Type.Optional(Type.Boolean())
})

export const ActivitySyncStatus = Type.Object({
  success: Type.Literal(true),
  synced: Type.Boolean(),
  pipedriveActivityId: Type.Optional(PipedriveIdString),
  syncAttempts: Type.Integer({ minimum: 0 }),
  lastAttempt: Type.Optional(Type.String({ format: 'date-time' })),
  state: ActivityState,
  lastError: Type.Optional(Type.String()),
  warning: Type.Optional(Type.String()),
  fields: Type.Optional(
    Type.Array(Type.String(), { description: 'The Pipedrive fields the last update carried' })
  )
})

export type ContactSyncStatusT = Static<typeof ContactSyncStatus>
export type ActivitySyncStatusT = Static<typeof ActivitySyncStatus>

export const CheckWarmLeadBody = Type.Union([Type.Object({ contactId: Type.Optional(IdParam) }), Type.Null()])

export const CheckWarmLeadResult = Type.Object({
  success: Type.Literal(true),
  isWarmLead: Type.Boolean(),
  pipedrivePersonId: Type.Optional(PipedriveIdString),
  pipedriveOrgId: Type.Optional(PipedriveIdString),
  queued: Type.Optional(Type.Boolean()),
  state: ContactState,
  warning: Type.Optional(Type.String())
})

export const SetupUserBody = Type.Object({
  email: Type.String({ format: 'email', maxLength: 254 }),
  apiToken: Type.Optional(Type.String({ minLength: 1, maxLength: 512 }))
})

export const SetupUserResult = Type.Object({
  success: Type.Literal(true),
  pipedriveUserId: Type.Integer()
})

export type CheckWarmLeadResultT = Static<typeof CheckWarmLeadResult>

export const FailuresQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
})

export const FailuresPage = Type.Object({
  success: Type.Literal(true),
  items: Type.Array(
    Type.Object({
      jobId: Type.String(),
      entity: Type.Union([Type.Literal('contact'), Type.Literal('activity')]),
      id: Type.String({ description: 'CRM id' }),
      state: Type.Union([Type.Literal('retrying'), Type.Literal('dead')]),
      attempts: Type.Integer({ minimum: 0 }),
      lastError: Type.Union([Type.String(), Type.Null()]),
      nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
    })
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()])
})

export const JobParams = Type.Object({ jobId: Type.String({ minLength: 1, maxLength: 64 }) })
export const Queued = Type.Object({ success: Type.Literal(true), queued: Type.Integer({ minimum: 0 }) })
