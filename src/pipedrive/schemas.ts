import { type Static, type TSchema, Type } from '@sinclair/typebox'

/**
 * Pipedrive's shapes for the pinned surface (docs/pipedrive.md), shared by the client
 * (which checks answers against them) and the sandbox (which validates request bodies with them
 * and builds its answers from them) so the two cannot drift apart.
 *
 * Answers: only the fields we read, extra fields allowed (Pipedrive adds fields freely; ⚠️ items
 * are optional). Request bodies: strict like API v2 — wrong types and unknown fields are refused.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const Id = Type.Integer({ minimum: 1 })

// ---- answers -------------------------------------------------------------------------------

export const UserSchema = Type.Object({
  id: Id,
  name: Type.String(),
  email: Type.String(),
  active_flag: Type.Boolean(),
  is_admin: Type.Optional(Type.Boolean()),
  is_deleted: Type.Optional(Type.Boolean())
})
export type User = Static<typeof UserSchema>

export const FieldOptionSchema = Type.Object({
  id: Id,
  label: Type.String(),
  color: Type.Optional(Nullable(Type.String()))
})
export type FieldOption = Static<typeof FieldOptionSchema>

/** v2 personFields item. */
export const FieldSchema = Type.Object({
  field_code: Type.String(),
  field_name: Type.String(),
  field_type: Type.String(),
  is_custom_field: Type.Optional(Type.Boolean()),
  options: Type.Optional(Nullable(Type.Array(FieldOptionSchema)))
})
export type Field = Static<typeof FieldSchema>

/**
 * v2 organizationFields item. Pipedrive's model types option ids as number or string: a field
 * with string ids must not make the whole list unreadable (industry options are numbers).
 */
export const OrganizationFieldSchema = Type.Object({
  ...FieldSchema.properties,
  options: Type.Optional(
    Nullable(Type.Array(Type.Object({ id: Type.Union([Id, Type.String()]), label: Type.String() })))
  )
})
export type OrganizationField = Static<typeof OrganizationFieldSchema>

/** v1 personFields item: the numeric id is what `PUT /api/v1/personFields/{id}` needs. */
export const FieldV1Schema = Type.Object({
  id: Id,
  key: Type.String(),
  name: Type.String(),
  field_type: Type.String(),
  options: Type.Optional(Nullable(Type.Array(FieldOptionSchema)))
})
export type FieldV1 = Static<typeof FieldV1Schema>

const OwnerRefSchema = Type.Object({ id: Id })

export const AddressSchema = Type.Object({
  value: Type.Optional(Nullable(Type.String())),
  country: Type.Optional(Nullable(Type.String()))
})

export const OrganizationSchema = Type.Object({
  id: Id,
  name: Type.String(),
  owner_id: Type.Optional(Nullable(Id)),
  address: Type.Optional(Nullable(AddressSchema)),
  custom_fields: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown())))
})
export type Organization = Static<typeof OrganizationSchema>

export const OrganizationSearchSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      result_score: Type.Optional(Type.Number()),
      item: Type.Object({ id: Id, name: Type.String(), owner: Type.Optional(Nullable(OwnerRefSchema)) })
    })
  )
})
export type OrganizationSearch = Static<typeof OrganizationSearchSchema>

export const ContactDetailSchema = Type.Object(
  { value: Type.String(), primary: Type.Boolean(), label: Type.String() },
  { additionalProperties: false }
)
export type ContactDetail = Static<typeof ContactDetailSchema>

export const PersonSchema = Type.Object({
  id: Id,
  name: Type.String(),
  owner_id: Type.Optional(Nullable(Id)),
  org_id: Type.Optional(Nullable(Id)),
  label_ids: Type.Optional(Nullable(Type.Array(Id))),
  emails: Type.Optional(
    Nullable(Type.Array(Type.Object({ value: Type.String(), primary: Type.Optional(Type.Boolean()) })))
  ),
  phones: Type.Optional(
    Nullable(Type.Array(Type.Object({ value: Type.String(), primary: Type.Optional(Type.Boolean()) })))
  )
})
export type Person = Static<typeof PersonSchema>

export const PersonSearchSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      result_score: Type.Optional(Type.Number()),
      item: Type.Object({
        id: Id,
        name: Type.String(),
        // Plain strings in search results (objects in GET /persons/{id}).
        emails: Type.Array(Type.String()),
        organization: Type.Optional(Nullable(Type.Object({ id: Id }))),
        owner: Type.Optional(Nullable(OwnerRefSchema))
      })
    })
  )
})
export type PersonSearch = Static<typeof PersonSearchSchema>

export const ActivityTypeSchema = Type.Object({
  id: Id,
  name: Type.String(),
  key_string: Type.String(),
  active_flag: Type.Boolean()
})
export type ActivityType = Static<typeof ActivityTypeSchema>

export const ParticipantSchema = Type.Object(
  { person_id: Id, primary: Type.Boolean() },
  { additionalProperties: false }
)

export const ActivitySchema = Type.Object({
  id: Id,
  subject: Type.String(),
  type: Type.String(),
  owner_id: Type.Optional(Nullable(Id)),
  due_date: Type.Optional(Nullable(Type.String())),
  due_time: Type.Optional(Nullable(Type.String())),
  duration: Type.Optional(Nullable(Type.String())),
  done: Type.Optional(Type.Boolean()),
  participants: Type.Optional(Nullable(Type.Array(ParticipantSchema))),
  org_id: Type.Optional(Nullable(Id))
})
export type Activity = Static<typeof ActivitySchema>

/** What a v2 DELETE answers: the id of the record deleted. */
export const DeletedSchema = Type.Object({ id: Id })
export type Deleted = Static<typeof DeletedSchema>

// ---- request bodies (strict, as API v2 is) -------------------------------------------------

const Name = Type.String({ minLength: 1, maxLength: 255 })
const DATE = '^\\d{4}-\\d{2}-\\d{2}$'
// Pipedrive documents HH:MM; older integrations write HH:MM:SS. The sandbox accepts both, we send HH:MM.
const TIME = '^([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d)?$'
const DURATION = '^\\d{2,}:[0-5]\\d(:[0-5]\\d)?$'

export const NewOrganizationSchema = Type.Object(
  {
    name: Name,
    owner_id: Type.Optional(Id),
    address: Type.Optional(Type.Object({ value: Type.String(), country: Type.Optional(Type.String()) })),
    /** The option id of the standard `industry` field (v2); not a custom field. */
    industry: Type.Optional(Id),
    custom_fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    visible_to: Type.Optional(Type.Integer())
  },
  { additionalProperties: false }
)
export type NewOrganization = Static<typeof NewOrganizationSchema>

/** PATCH: the create's fields, each optional; only the fields sent change (docs/pipedrive.md). */
export const OrganizationUpdateSchema = Type.Partial(NewOrganizationSchema, { additionalProperties: false })
export type OrganizationUpdate = Static<typeof OrganizationUpdateSchema>

export const NewPersonSchema = Type.Object(
  {
    name: Name,
    owner_id: Type.Optional(Id),
    org_id: Type.Optional(Id),
    emails: Type.Optional(Type.Array(ContactDetailSchema)),
    phones: Type.Optional(Type.Array(ContactDetailSchema)),
    label_ids: Type.Optional(Type.Array(Id)),
    visible_to: Type.Optional(Type.Integer()),
    custom_fields: Type.Optional(Type.Record(Type.String(), Type.Unknown()))
  },
  { additionalProperties: false }
)
export type NewPerson = Static<typeof NewPersonSchema>

export const PersonUpdateSchema = Type.Partial(NewPersonSchema, { additionalProperties: false })
export type PersonUpdate = Static<typeof PersonUpdateSchema>

export const NewActivitySchema = Type.Object(
  {
    subject: Name,
    type: Type.String({ minLength: 1 }),
    owner_id: Type.Optional(Id),
    due_date: Type.Optional(Type.String({ pattern: DATE })),
    due_time: Type.Optional(Type.String({ pattern: TIME })),
    duration: Type.Optional(Type.String({ pattern: DURATION })),
    note: Type.Optional(Type.String()),
    done: Type.Optional(Type.Boolean()),
    // person_id is read-only in v2: the person is set through the primary participant.
    participants: Type.Array(ParticipantSchema, { minItems: 1 }),
    org_id: Type.Optional(Id)
  },
  { additionalProperties: false }
)
export type NewActivity = Static<typeof NewActivitySchema>

export const ActivityUpdateSchema = Type.Partial(NewActivitySchema, { additionalProperties: false })
export type ActivityUpdate = Static<typeof ActivityUpdateSchema>

const NewFieldOptionSchema = Type.Object({ label: Name }, { additionalProperties: false })
export const NewFieldOptionsSchema = Type.Array(NewFieldOptionSchema, { minItems: 1 })
export type NewFieldOptions = Static<typeof NewFieldOptionsSchema>

/** v1 field update: options without an id are new; existing options left out are DELETED. */
export const FieldV1UpdateSchema = Type.Object({
  options: Type.Array(
    Type.Object({ id: Type.Optional(Id), label: Name, color: Type.Optional(Nullable(Type.String())) })
  )
})
export type FieldV1Update = Static<typeof FieldV1UpdateSchema>

// ---- envelope ------------------------------------------------------------------------------

export const CursorSchema = Type.Object({ next_cursor: Type.Optional(Nullable(Type.String())) })
