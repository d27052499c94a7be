import type { PipedriveAccount } from './account.js'
import { type ApiOptions, getPerson, patchPerson, postPerson, searchPersons } from './api.js'
import { type CreateOptions, createOnce } from './create-once.js'
import { sameText } from './names.js'
import type { NewPerson, Person, PersonSearch } from './schemas.js'

export type PersonMatch = PersonSearch['items'][number]['item']

export interface NewPersonInput {
  name: string
  email?: string | null
  phone?: string | null
  ownerId?: number
  orgId?: number
  labelIds?: number[]
}

export interface CreatedPerson {
  id: number
  name: string
  created: boolean
}

/** The person having exactly this email (ignoring case): search may return near matches. */
export async function findPersonByEmail(
  account: PipedriveAccount,
  email: string,
  options: ApiOptions = {}
): Promise<PersonMatch | undefined> {
  const items = await searchPersons(account.client, email.trim(), options)
  return items
    .map(({ item }) => item)
    .find((item) => item.emails.some((candidate) => sameText(candidate, email)))
}

/**
 * Creates the person unless a lost earlier create made it already: after an ambiguous attempt it
 * is looked up by email, and when it is not found the create is not sent again at once (a new
 * person is not searchable at once either: PipedriveCreateUnconfirmedError, for a later round).
 * With no email there is no key, so an ambiguous failure is not sent again at all.
 */
export async function createPerson(
  account: PipedriveAccount,
  input: NewPersonInput,
  options: CreateOptions = {}
): Promise<CreatedPerson> {
  const { client } = account
  const body: NewPerson = { name: input.name }
  const email = input.email?.trim()
  if (email) body.emails = [{ value: email, primary: true, label: 'work' }]
  if (input.phone) body.phones = [{ value: input.phone, primary: true, label: 'work' }]
  if (input.ownerId !== undefined) body.owner_id = input.ownerId
  if (input.orgId !== undefined) body.org_id = input.orgId
  if (input.labelIds?.length) body.label_ids = [...new Set(input.labelIds)]
  const { value, created } = await createOnce(
    client,
    {
      what: 'person',
      createAgainAfterMiss: false,
      create: async (callOptions) => {
        const person = await postPerson(client, body, callOptions)
        return { id: person.id, name: person.name }
      },
      lookup: email
        ? async (callOptions) => {
            const found = await findPersonByEmail(account, email, callOptions)
            return found ? { id: found.id, name: found.name } : undefined
          }
        : undefined
    },
    options
  )
  return { ...value, created }
}

/**
 * Adds a label to the person's labels. `label_ids` on update replaces the whole set, so the
 * person is read first and the union sent; nothing is written when the label is already there.
 */
export async function addLabelToPerson(
  account: PipedriveAccount,
  personId: number,
  labelId: number,
  options: ApiOptions = {}
): Promise<{ person: Person; changed: boolean }> {
  const person = await getPerson(account.client, personId, options)
  const labels = person.label_ids ?? []
  if (labels.includes(labelId)) return { person, changed: false }
  const updated = await patchPerson(account.client, personId, { label_ids: [...labels, labelId] }, options)
  return { person: updated, changed: true }
}
