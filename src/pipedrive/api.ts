import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { UpdateFieldRequest } from 'pipedrive/v1'
import type {
  AddActivityRequest,
  AddDealFieldOptionsRequestInner,
  AddOrganizationRequest,
  AddPersonRequest,
  UpdateOrganizationRequest,
  UpdatePersonRequest
} from 'pipedrive/v2'
import type { AttemptHook, CallOptions, Endpoint, HttpMethod, PipedriveClient, Query } from './client.js'
import type { Official } from './official-models.js'
import {
  type Activity,
  ActivitySchema,
  type ActivityType,
  ActivityTypeSchema,
  type ActivityUpdate,
  CursorSchema,
  type Deleted,
  DeletedSchema,
  type Field,
  type FieldOption,
  FieldOptionSchema,
  FieldSchema,
  type FieldV1,
  FieldV1Schema,
  type FieldV1Update,
  type NewActivity,
  type NewFieldOptions,
  type NewOrganization,
  type NewPerson,
  type Organization,
  type OrganizationField,
  OrganizationFieldSchema,
  OrganizationSchema,
  type OrganizationSearch,
  OrganizationSearchSchema,
  type OrganizationUpdate,
  type Person,
  PersonSchema,
  type PersonSearch,
  PersonSearchSchema,
  type PersonUpdate,
  type User,
  UserSchema
} from './schemas.js'

/**
 * One typed function per pinned endpoint (docs/pipedrive.md), nothing more: the
 * domain rules (exact matching, caches, look-before-create) live in the helper modules, which
 * take the names of the operations (`createPerson`); a write endpoint is named for its method
 * (`postPerson`, `patchPerson`), so the two levels never share a name. Every
 * request body is typed `Official<ours, Pipedrive's model>`: the typecheck fails when a body
 * drifts from Pipedrive's own spec. A failed write, a 404 or 410 on a deleted record included, is
 * thrown as the client's `PipedriveError` with its status: what a 404 means is the caller's call.
 */

export interface ApiOptions {
  onAttempt?: AttemptHook
  signal?: AbortSignal
  /** Send exactly once, without in-line retries (creates under a look-before-create loop). */
  once?: boolean
}

/** Lists are followed through `next_cursor`, with a ceiling so a looping cursor cannot hang us. */
const MAX_PAGES = 50
const PAGE_SIZE = 100

function endpoint<S extends TSchema>(name: string, method: HttpMethod, path: string, data: S): Endpoint<S> {
  return { name, method, path, data }
}

async function run<S extends TSchema>(
  client: PipedriveClient,
  target: Endpoint<S>,
  options: ApiOptions,
  extra: Pick<CallOptions, 'query' | 'body'> = {}
) {
  const callOptions: CallOptions = {
    ...extra,
    ...(options.onAttempt ? { onAttempt: options.onAttempt } : {}),
    ...(options.signal ? { signal: options.signal } : {})
  }
  return options.once ? client.send(target, callOptions) : client.call(target, callOptions)
}

async function all<I extends TSchema>(
  client: PipedriveClient,
  name: string,
  path: string,
  item: I,
  query: Query,
  options: ApiOptions
): Promise<Static<I>[]> {
  const target = endpoint(name, 'GET', path, Type.Array(item))
  const items: Static<I>[] = []
  let cursor: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await run(client, target, options, { query: { ...query, cursor } })
    items.push(...(answer.data as Static<I>[]))
    const next = Value.Check(CursorSchema, answer.additionalData)
      ? answer.additionalData.next_cursor
      : undefined
    if (!next) break
    cursor = next
  }
  return items
}

// ---- users (v1 only) -----------------------------------------------------------------------

export async function findUsers(
  client: PipedriveClient,
  email: string,
  options: ApiOptions = {}
): Promise<User[]> {
  const target = endpoint(
    'users.find',
    'GET',
    '/api/v1/users/find',
    Type.Union([Type.Array(UserSchema), Type.Null()])
  )
  const answer = await run(client, target, options, { query: { term: email, search_by_email: 1 } })
  return answer.data ?? []
}

export async function getCurrentUser(client: PipedriveClient, options: ApiOptions = {}): Promise<User> {
  return (await run(client, endpoint('users.me', 'GET', '/api/v1/users/me', UserSchema), options)).data
}

// ---- person fields -------------------------------------------------------------------------

export function listPersonFields(client: PipedriveClient, options: ApiOptions = {}): Promise<Field[]> {
  return all(client, 'personFields.list', '/api/v2/personFields', FieldSchema, { limit: PAGE_SIZE }, options)
}

export async function postPersonFieldOptions(
  client: PipedriveClient,
  fieldCode: string,
  body: Official<NewFieldOptions, AddDealFieldOptionsRequestInner[]>,
  options: ApiOptions = {}
): Promise<FieldOption[]> {
  const path = `/api/v2/personFields/${encodeURIComponent(fieldCode)}/options`
  const target = endpoint('personFields.addOptions', 'POST', path, Type.Array(FieldOptionSchema))
  return (await run(client, target, options, { body })).data
}

export async function listPersonFieldsV1(
  client: PipedriveClient,
  options: ApiOptions = {}
): Promise<FieldV1[]> {
  const target = endpoint('personFields.listV1', 'GET', '/api/v1/personFields', Type.Array(FieldV1Schema))
  return (await run(client, target, options)).data
}

export async function putPersonFieldV1(
  client: PipedriveClient,
  id: number,
  body: Official<FieldV1Update, UpdateFieldRequest>,
  options: ApiOptions = {}
): Promise<FieldV1> {
  const target = endpoint('personFields.updateV1', 'PUT', `/api/v1/personFields/${id}`, FieldV1Schema)
  return (await run(client, target, options, { body })).data
}

// ---- organizations -------------------------------------------------------------------------

export async function searchOrganizations(
  client: PipedriveClient,
  name: string,
  options: ApiOptions = {}
): Promise<OrganizationSearch['items']> {
  const target = endpoint(
    'organizations.search',
    'GET',
    '/api/v2/organizations/search',
    OrganizationSearchSchema
  )
  const query = { term: name, fields: 'name', exact_match: 'true' }
  return (await run(client, target, options, { query })).data.items
}

export async function postOrganization(
  client: PipedriveClient,
  body: Official<NewOrganization, AddOrganizationRequest>,
  options: ApiOptions = {}
): Promise<Organization> {
  const target = endpoint('organizations.create', 'POST', '/api/v2/organizations', OrganizationSchema)
  return (await run(client, target, options, { body })).data
}

export async function patchOrganization(
  client: PipedriveClient,
  id: number,
  body: Official<OrganizationUpdate, UpdateOrganizationRequest>,
  options: ApiOptions = {}
): Promise<Organization> {
  const target = endpoint('organizations.update', 'PATCH', `/api/v2/organizations/${id}`, OrganizationSchema)
  return (await run(client, target, options, { body })).data
}

export function listOrganizationFields(
  client: PipedriveClient,
  options: ApiOptions = {}
): Promise<OrganizationField[]> {
  const path = '/api/v2/organizationFields'
  return all(client, 'organizationFields.list', path, OrganizationFieldSchema, { limit: PAGE_SIZE }, options)
}

// ---- persons -------------------------------------------------------------------------------

export async function searchPersons(
  client: PipedriveClient,
  email: string,
  options: ApiOptions = {}
): Promise<PersonSearch['items']> {
  const target = endpoint('persons.search', 'GET', '/api/v2/persons/search', PersonSearchSchema)
  const query = { term: email, fields: 'email', exact_match: 'true' }
  return (await run(client, target, options, { query })).data.items
}

export async function getPerson(
  client: PipedriveClient,
  id: number,
  options: ApiOptions = {}
): Promise<Person> {
  return (await run(client, endpoint('persons.get', 'GET', `/api/v2/persons/${id}`, PersonSchema), options))
    .data
}

export async function postPerson(
  client: PipedriveClient,
  body: Official<NewPerson, AddPersonRequest>,
  options: ApiOptions = {}
): Promise<Person> {
  const target = endpoint('persons.create', 'POST', '/api/v2/persons', PersonSchema)
  return (await run(client, target, options, { body })).data
}

export async function patchPerson(
  client: PipedriveClient,
  id: number,
  body: Official<PersonUpdate, UpdatePersonRequest>,
  options: ApiOptions = {}
): Promise<Person> {
  const target = endpoint('persons.update', 'PATCH', `/api/v2/persons/${id}`, PersonSchema)
  return (await run(client, target, options, { body })).data
}

export async function deletePerson(
  client: PipedriveClient,
  id: number,
  options: ApiOptions = {}
): Promise<Deleted> {
  const target = endpoint('persons.delete', 'DELETE', `/api/v2/persons/${id}`, DeletedSchema)
  return (await run(client, target, options)).data
}

// ---- activities ----------------------------------------------------------------------------

export async function listActivityTypes(
  client: PipedriveClient,
  options: ApiOptions = {}
): Promise<ActivityType[]> {
  const target = endpoint(
    'activityTypes.list',
    'GET',
    '/api/v1/activityTypes',
    Type.Array(ActivityTypeSchema)
  )
  return (await run(client, target, options)).data
}

export async function postActivity(
  client: PipedriveClient,
  body: Official<NewActivity, AddActivityRequest>,
  options: ApiOptions = {}
): Promise<Activity> {
  const target = endpoint('activities.create', 'POST', '/api/v2/activities', ActivitySchema)
  return (await run(client, target, options, { body })).data
}

export function listPersonActivities(
  client: PipedriveClient,
  personId: number,
  options: ApiOptions = {}
): Promise<Activity[]> {
  const query = { person_id: personId, limit: PAGE_SIZE }
  return all(client, 'activities.list', '/api/v2/activities', ActivitySchema, query, options)
}

/** The package has no update model for activities: its `updateActivity` takes the create's. */
export async function patchActivity(
  client: PipedriveClient,
  id: number,
  body: Official<ActivityUpdate, AddActivityRequest>,
  options: ApiOptions = {}
): Promise<Activity> {
  const target = endpoint('activities.update', 'PATCH', `/api/v2/activities/${id}`, ActivitySchema)
  return (await run(client, target, options, { body })).data
}

export async function deleteActivity(
  client: PipedriveClient,
  id: number,
  options: ApiOptions = {}
): Promise<Deleted> {
  const target = endpoint('activities.delete', 'DELETE', `/api/v2/activities/${id}`, DeletedSchema)
  return (await run(client, target, options)).data
}
