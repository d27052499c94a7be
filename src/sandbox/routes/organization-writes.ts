import type { FastifyInstance } from 'fastify'
import type { DeleteOrganizationResponseData } from 'pipedrive/v2'
import { OrganizationUpdateSchema } from '../../pipedrive/schemas.js'
import { mergeCustomFields } from '../field-values.js'
import { SandboxHttpError } from '../http-error.js'
import type { Answer } from '../official-answer.js'
import { now, type SandboxStore } from '../store.js'
import { positiveInt, validateBody } from '../validate.js'
import { checkOrganizationReferences, organizationView } from './organizations.js'
import { ok } from './page.js'

/**
 * Updates and deletes, as for persons (docs/pipedrive.md): only the fields sent change,
 * `custom_fields` merge per key, a deleted organization is gone from search and answers 404.
 */
export function organizationWriteRoutes(app: FastifyInstance, store: SandboxStore) {
  app.patch<{ Params: { id: string } }>('/api/v2/organizations/:id', async (request) => {
    const id = positiveInt(request.params.id, 'id')
    const organization = store.organizations.find((candidate) => candidate.id === id)
    if (!organization) throw new SandboxHttpError(404, 'Organization not found')
    const body = validateBody(OrganizationUpdateSchema, request.body)
    checkOrganizationReferences(store, body, { update: true })
    const { custom_fields, ...fields } = body
    Object.assign(organization, fields, {
      custom_fields: mergeCustomFields(organization.custom_fields, custom_fields),
      update_time: now()
    })
    return ok(organizationView(organization))
  })

  app.delete<{ Params: { id: string } }>('/api/v2/organizations/:id', async (request) => {
    const id = positiveInt(request.params.id, 'id')
    if (!store.softDelete('organizations', id)) throw new SandboxHttpError(404, 'Organization not found')
    return ok({ id } satisfies Answer<DeleteOrganizationResponseData>)
  })
}
