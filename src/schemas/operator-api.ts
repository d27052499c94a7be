import { type Static, Type } from '@sinclair/typebox'

const IdParam = Type.String({ minLength: 1, maxLength: 128 })
export const ContactParams = Type.Object({ id: IdParam })
export const ActivityParams = Type.Object({ id: IdParam })

/** Pipedrive ids are strings in operator answers (the seed's interfaces), except `pipedriveUserId`. */
const PipedriveIdString = Type.String({ pattern: '^[0-9]+$' })

export const ApiFailure = Type.Object({ success: Type.Literal(false), error: Type.String() })

const ContactState = Type.Union(
  ['not_warm', 'pending', 'retrying', 'synced', 'dead', 'skipped'].map((state) => Type.Literal(state))
)
const ActivityState = Type.Union(
  ['pending', 'waiting_for_person', 'retrying', 'synced', 'dead', 'skipped'].map((state) =>
    Type.Literal(state)
  )
)

export const ContactSyncStatus = Type.Object({
  success: Type.Literal(true),
  isWarmLead: Type.Boolean(),
  state: ContactState,
  pipedrivePersonId: Type.Optional(PipedriveIdString),
  pipedriveOrgId: Type.Optional(PipedriveIdString),
  attempts: Type.Integer({ minimum: 0 }),
  lastAttempt: Type.Optional(Type.String({ format: 'date-time' })),
  lastError: Type.Optional(Type.String()),
  warning: Type.Optional(Type.String())
})

export const ActivitySyncStatus = Type.Object({
  success: Type.Literal(true),
  synced: Type.Boolean(),
  pipedriveActivityId: Type.Optional(PipedriveIdString),
  syncAttempts: Type.Integer({ minimum: 0 }),
  lastAttempt: Type.Optional(Type.String({ format: 'date-time' })),
  state: ActivityState,
  lastError: Type.Optional(Type.String()),
  warning: Type.Optional(Type.String())
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
