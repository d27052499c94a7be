import type { FastifyInstance } from 'fastify'
import type { GetOrganizationSearchResponseAllOfDataItemsInner, OrganizationItem } from 'pipedrive/v2'
import { NewOrganizationSchema, type OrganizationUpdate } from '../../pipedrive/schemas.js'
import { checkCustomFields, checkIndustry } from '../field-values.js'
import { SandboxHttpError } from '../http-error.js'
import type { Answer } from '../official-answer.js'
import { now, type SandboxStore, type StoredOrganization } from '../store.js'
import { tokenUserId } from '../token-user.js'
import { validateBody } from '../validate.js'
import { ok } from './page.js'
import { searchTerm } from './search-term.js'

export function organizationView(organization: StoredOrganization) {
  return {
    id: organization.id,
    name: organization.name,
    owner_id: organization.owner_id,
    address: organization.address,
    industry: organization.industry,
    custom_fields: organization.custom_fields,
    visible_to: organization.visible_to,
    add_time: organization.add_time,
    update_time: organization.update_time,
    is_deleted: false,
    label_ids: []
  } satisfies Answer<OrganizationItem>
}

/** References must exist, as Pipedrive checks them: owner (active user), industry, custom fields. */
export function checkOrganizationReferences(
  store: SandboxStore,
  body: OrganizationUpdate,
  { update = false } = {}
): void {
  if (body.owner_id !== undefined && !store.activeUser(body.owner_id)) {
    throw new SandboxHttpError(400, `owner_id: user ${body.owner_id} not found`)
  }
  checkIndustry(store.organizationFields, body.industry)
  checkCustomFields(store.organizationFields, body.custom_fields, { update })
}

export function organizationRoutes(app: FastifyInstance, store: SandboxStore) {
  app.get<{ Querystring: { term?: string; fields?: string; exact_match?: string } }>(
    '/api/v2/organizations/search',
    async (request) => {
      const { term, exact } = searchTerm(request.query)
      const found = store.organizations.filter((organization) => {
        const name = organization.name.toLowerCase()
        return exact ? name === term : name.includes(term)
      })
      const items = found.map(
        (organization) =>
          ({
            result_score: organization.name.toLowerCase() === term ? 1 : 0.5,
            item: {
              id: organization.id,
              type: 'organization',
              name: organization.name,
              address: organization.address?.value ?? null,
              visible_to: organization.visible_to,
              owner: organization.owner_id ? { id: organization.owner_id } : null,
              custom_fields: [],
              notes: []
            }
          }) satisfies Answer<GetOrganizationSearchResponseAllOfDataItemsInner>
      )
      return ok({ items }, { next_cursor: null })
    }
  )

  app.post('/api/v2/organizations', async (request) => {
    const body = validateBody(NewOrganizationSchema, request.body)
    checkOrganizationReferences(store, body)
    const time = now()
    const organization: StoredOrganization = {
      id: store.nextId('organization'),
      name: body.name,
      owner_id: body.owner_id ?? tokenUserId(store, request),
      address: body.address ?? null,
      industry: body.industry ?? null,
      custom_fields: body.custom_fields ?? {},
      visible_to: body.visible_to ?? 3,
      add_time: time,
      update_time: time
    }
    store.organizations.push(organization)
    return ok(organizationView(organization))
  })
}
