import type { FastifyInstance } from 'fastify'
import type { ActivityItem } from 'pipedrive/v2'
import { type ActivityUpdate, NewActivitySchema } from '../../pipedrive/schemas.js'
import { SandboxHttpError } from '../http-error.js'
import type { Answer } from '../official-answer.js'
import { now, type SandboxStore, type StoredActivity } from '../store.js'
import { tokenUserId } from '../token-user.js'
import { positiveInt, validateBody } from '../validate.js'
import { ok, page } from './page.js'

export function activityView(activity: StoredActivity) {
  return {
    id: activity.id,
    subject: activity.subject,
    type: activity.type,
    owner_id: activity.owner_id,
    due_date: activity.due_date,
    due_time: activity.due_time,
    duration: activity.duration,
    note: activity.note,
    done: activity.done,
    participants: activity.participants,
    person_id: activity.person_id,
    org_id: activity.org_id,
    add_time: activity.add_time,
    update_time: activity.update_time
  } satisfies Answer<ActivityItem>
}

/** References must exist, as Pipedrive checks them: type, owner (active user), persons, organization. */
export function checkActivityReferences(store: SandboxStore, body: ActivityUpdate): void {
  if (
    body.type !== undefined &&
    !store.activityTypes.some((type) => type.key_string === body.type && type.active_flag)
  ) {
    throw new SandboxHttpError(400, `type: activity type "${body.type}" not found`)
  }
  if (body.owner_id !== undefined && !store.activeUser(body.owner_id)) {
    throw new SandboxHttpError(400, `owner_id: user ${body.owner_id} not found`)
  }
  for (const participant of body.participants ?? []) {
    if (!store.persons.some((person) => person.id === participant.person_id)) {
      throw new SandboxHttpError(400, `participants: person ${participant.person_id} not found`)
    }
  }
  if (
    body.org_id !== undefined &&
    !store.organizations.some((organization) => organization.id === body.org_id)
  ) {
    throw new SandboxHttpError(400, `org_id: organization ${body.org_id} not found`)
  }
}

/** The person of an activity is its primary participant (person_id is read-only in v2). */
export function primaryPerson(participants: StoredActivity['participants']): number | null {
  return participants.find((participant) => participant.primary)?.person_id ?? null
}

export function activityRoutes(app: FastifyInstance, store: SandboxStore) {
  app.get('/api/v1/activityTypes', async () =>
    ok(
      store.activityTypes.map((type, index) => ({
        ...type,
        icon_key: type.key_string,
        color: null,
        order_nr: index + 1,
        is_custom_flag: false
      }))
    )
  )

  app.get<{ Querystring: { person_id?: string; limit?: string; cursor?: string } }>(
    '/api/v2/activities',
    async (request) => {
      const personId =
        request.query.person_id === undefined ? undefined : positiveInt(request.query.person_id, 'person_id')
      const found = store.activities.filter(
        (activity) => personId === undefined || activity.participants.some((p) => p.person_id === personId)
      )
      return page(found.map(activityView), request.query)
    }
  )

  app.post('/api/v2/activities', async (request) => {
    const body = validateBody(NewActivitySchema, request.body)
    checkActivityReferences(store, body)
    const time = now()
    const activity: StoredActivity = {
      id: store.nextId('activity'),
      subject: body.subject,
      type: body.type,
      owner_id: body.owner_id ?? tokenUserId(store, request),
      due_date: body.due_date ?? null,
      due_time: body.due_time ?? null,
      duration: body.duration ?? null,
      note: body.note ?? null,
      done: body.done ?? false,
      participants: body.participants,
      person_id: primaryPerson(body.participants),
      org_id: body.org_id ?? null,
      add_time: time,
      update_time: time
    }
    store.activities.push(activity)
    return ok(activityView(activity))
  })
}
