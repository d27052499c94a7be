import type { FastifyInstance } from 'fastify'
import type { DeleteActivityResponseData } from 'pipedrive/v2'
import { ActivityUpdateSchema } from '../../pipedrive/schemas.js'
import { SandboxHttpError } from '../http-error.js'
import type { Answer } from '../official-answer.js'
import { now, type SandboxStore } from '../store.js'
import { positiveInt, validateBody } from '../validate.js'
import { activityView, checkActivityReferences, primaryPerson } from './activities.js'
import { ok } from './page.js'

/**
 * Updates and deletes (docs/pipedrive.md). PATCH changes only the fields sent; `participants`
 * sent replace the stored ones (and so the activity's person). A deleted activity is gone from
 * the lists and answers 404.
 */
export function activityWriteRoutes(app: FastifyInstance, store: SandboxStore) {
  app.patch<{ Params: { id: string } }>('/api/v2/activities/:id', async (request) => {
    const id = positiveInt(request.params.id, 'id')
    const activity = store.activities.find((candidate) => candidate.id === id)
    if (!activity) throw new SandboxHttpError(404, 'Activity not found')
    const body = validateBody(ActivityUpdateSchema, request.body)
    checkActivityReferences(store, body)
    Object.assign(activity, body, {
      ...(body.participants ? { person_id: primaryPerson(body.participants) } : {}),
      update_time: now()
    })
    return ok(activityView(activity))
  })

  app.delete<{ Params: { id: string } }>('/api/v2/activities/:id', async (request) => {
    const id = positiveInt(request.params.id, 'id')
    if (!store.softDelete('activities', id)) throw new SandboxHttpError(404, 'Activity not found')
    return ok({ id } satisfies Answer<DeleteActivityResponseData>)
  })
}
