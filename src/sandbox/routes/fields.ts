import type { FastifyInstance } from 'fastify'
import type { AddDealFieldOptions200ResponseDataInner } from 'pipedrive/v2'
import { FieldV1UpdateSchema, NewFieldOptionsSchema } from '../../pipedrive/schemas.js'
import { SandboxHttpError } from '../http-error.js'
import { asV1Field, asV2Field, type SandboxStore } from '../store.js'
import { positiveInt, validateBody } from '../validate.js'
import { ok, page } from './page.js'

type Paged = { Querystring: { limit?: string; cursor?: string } }

export function fieldRoutes(app: FastifyInstance, store: SandboxStore) {
  app.get<Paged>('/api/v2/personFields', async (request) =>
    page(store.personFields.map(asV2Field), request.query)
  )
  app.get<Paged>('/api/v2/organizationFields', async (request) =>
    page(store.organizationFields.map(asV2Field), request.query)
  )
  app.get('/api/v1/personFields', async () => ok(store.personFields.map(asV1Field)))

  app.post<{ Params: { code: string } }>('/api/v2/personFields/:code/options', async (request) => {
    const field = store.personFields.find((candidate) => candidate.field_code === request.params.code)
    if (!field) throw new SandboxHttpError(404, 'Field not found')
    const wanted = validateBody(NewFieldOptionsSchema, request.body)
    if (!field.options) throw new SandboxHttpError(400, 'Field has no options')
    if (field.key === 'label_ids' && !store.options.labelOptionsViaV2) {
      throw new SandboxHttpError(400, 'Options of this system field cannot be changed with this endpoint')
    }
    const added = wanted.map((option) => ({ id: store.nextId('option'), label: option.label }))
    field.options.push(...added)
    return ok(added satisfies AddDealFieldOptions200ResponseDataInner[])
  })

  // v1 semantics: options listed without an id are added; existing options left out are DELETED.
  app.put<{ Params: { id: string } }>('/api/v1/personFields/:id', async (request) => {
    const id = positiveInt(request.params.id, 'id')
    const field = store.personFields.find((candidate) => candidate.id === id)
    if (!field) throw new SandboxHttpError(404, 'Field not found')
    const update = validateBody(FieldV1UpdateSchema, request.body)
    const known = new Map((field.options ?? []).map((option) => [option.id, option]))
    field.options = update.options.map((option) => {
      if (option.id !== undefined && !known.has(option.id))
        throw new SandboxHttpError(400, `unknown option id ${option.id}`)
      return { id: option.id ?? store.nextId('option'), label: option.label, color: option.color ?? null }
    })
    return ok(asV1Field(field))
  })
}
