import type { FastifyInstance } from 'fastify'
import type { GetPersonSearchResponseAllOfDataItemsInner, Person } from 'pipedrive/v2'
import { NewPersonSchema, type PersonUpdate } from '../../pipedrive/schemas.js'
import { checkCustomFields } from '../field-values.js'
import { SandboxHttpError } from '../http-error.js'
import type { Answer } from '../official-answer.js'
import { now, type SandboxStore, type StoredPerson } from '../store.js'
import { tokenUserId } from '../token-user.js'
import { positiveInt, validateBody } from '../validate.js'
import { ok } from './page.js'
import { searchTerm } from './search-term.js'

export function personView(person: StoredPerson) {
  const [first_name, ...rest] = person.name.split(' ')
  return {
    id: person.id,
    name: person.name,
    first_name: first_name ?? '',
    last_name: rest.join(' '),
    owner_id: person.owner_id,
    org_id: person.org_id,
    label_ids: person.label_ids,
    emails: person.emails,
    phones: person.phones,
    visible_to: person.visible_to,
    custom_fields: person.custom_fields,
    add_time: person.add_time,
    update_time: person.update_time,
    picture_id: null,
    is_deleted: false
  } satisfies Answer<Person>
}

/**
 * References must exist, as Pipedrive checks them: owner (active user), organization, labels,
 * custom fields (an update may clear one with null).
 */
export function checkPersonReferences(store: SandboxStore, body: PersonUpdate, { update = false } = {}) {
  if (body.owner_id !== undefined && !store.activeUser(body.owner_id)) {
    throw new SandboxHttpError(400, `owner_id: user ${body.owner_id} not found`)
  }
  if (
    body.org_id !== undefined &&
    !store.organizations.some((organization) => organization.id === body.org_id)
  ) {
    throw new SandboxHttpError(400, `org_id: organization ${body.org_id} not found`)
  }
  const labels = new Set((store.labelField().options ?? []).map((option) => option.id))
  for (const id of body.label_ids ?? []) {
    if (!labels.has(id)) throw new SandboxHttpError(400, `label_ids: label ${id} not found`)
  }
  checkCustomFields(store.personFields, body.custom_fields, { update })
}

export function personRoutes(app: FastifyInstance, store: SandboxStore) {
  app.get<{ Querystring: { term?: string; fields?: string; exact_match?: string } }>(
    '/api/v2/persons/search',
    async (request) => {
      const { term, exact } = searchTerm(request.query)
      const fields = (request.query.fields ?? 'email,name,phone').split(',')
      const hit = (value: string) =>
        exact ? value.toLowerCase() === term : value.toLowerCase().includes(term)
      const found = store.persons.filter(
        (person) =>
          (fields.includes('email') && person.emails.some((email) => hit(email.value))) ||
          (fields.includes('name') && hit(person.name)) ||
          (fields.includes('phone') && person.phones.some((phone) => hit(phone.value)))
      )
      const items = found.map((person) => {
        const organization = store.organizations.find((candidate) => candidate.id === person.org_id)
        return {
          result_score: 1,
          item: {
            id: person.id,
            type: 'person',
            name: person.name,
            phones: person.phones.map((phone) => phone.value),
            emails: person.emails.map((email) => email.value),
            visible_to: person.visible_to,
            owner: person.owner_id ? { id: person.owner_id } : null,
            organization: organization ? { id: organization.id, name: organization.name } : null,
            custom_fields: [],
            notes: []
          }
        } satisfies Answer<GetPersonSearchResponseAllOfDataItemsInner>
      })
      return ok({ items }, { next_cursor: null })
    }
  )

  app.get<{ Params: { id: string } }>('/api/v2/persons/:id', async (request) => {
    const id = positiveInt(request.params.id, 'id')
    const person = store.persons.find((candidate) => candidate.id === id)
    if (!person) throw new SandboxHttpError(404, 'Person not found')
    return ok(personView(person))
  })

  app.post('/api/v2/persons', async (request) => {
    const body = validateBody(NewPersonSchema, request.body)
    checkPersonReferences(store, body)
    const time = now()
    const person: StoredPerson = {
      id: store.nextId('person'),
      name: body.name,
      owner_id: body.owner_id ?? tokenUserId(store, request),
      org_id: body.org_id ?? null,
      label_ids: body.label_ids ?? [],
      emails: body.emails ?? [],
      phones: body.phones ?? [],
      visible_to: body.visible_to ?? 3,
      custom_fields: body.custom_fields ?? {},
      add_time: time,
      update_time: time
    }
    store.persons.push(person)
    return ok(personView(person))
  })
}
