import type { FastifyInstance } from 'fastify'
import type { DeletePersonResponseData } from 'pipedrive/v2'
import { PersonUpdateSchema } from '../../pipedrive/schemas.js'
import { mergeCustomFields } from '../field-values.js'
import { SandboxHttpError } from '../http-error.js'
import type { Answer } from '../official-answer.js'
import { now, type SandboxStore } from '../store.js'
import { positiveInt, validateBody } from '../validate.js'
import { ok } from './page.js'
import { checkPersonReferences, personView } from './persons.js'

/**
 * Updates and deletes (docs/pipedrive.md). PATCH changes only the fields sent: arrays sent
 * (`emails`, `phones`, `label_ids`) replace the stored ones — so adding a label means sending the
 * whole set — and `custom_fields` merge per key. A deleted person is gone from search and
 * look-ups: 404 to GET, PATCH and DELETE.
 */
export function personWriteRoutes(app: FastifyInstance, store: SandboxStore) {
  app.patch<{ Params: { id: string } }>('/api/v2/persons/:id', async (request) => {
    const id = positiveInt(request.params.id, 'id')
    const person = store.persons.find((candidate) => candidate.id === id)
    if (!person) throw new SandboxHttpError(404, 'Person not found')
    const body = validateBody(PersonUpdateSchema, request.body)
    checkPersonReferences(store, body, { update: true })
    const { custom_fields, ...fields } = body
    Object.assign(person, fields, {
      custom_fields: mergeCustomFields(person.custom_fields, custom_fields),
      update_time: now()
    })
    return ok(personView(person))
  })

  app.delete<{ Params: { id: string } }>('/api/v2/persons/:id', async (request) => {
    const id = positiveInt(request.params.id, 'id')
    if (!store.softDelete('persons', id)) throw new SandboxHttpError(404, 'Person not found')
    return ok({ id } satisfies Answer<DeletePersonResponseData>)
  })
}
