import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import {
  activityEvent,
  activityStatus,
  build,
  contactEvent,
  eventually,
  postWebhook,
  sandboxConfig,
  seedSandbox,
  TEST_OPERATOR_KEY,
  TEST_SECRET,
  testDatabase,
  testSandbox,
  uid,
  waitForState
} from '../helper.js'

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
// Nothing listens there: callbacks stay in the outbox, where the tests read them.
const app = await build(t, database, {
  config: sandboxConfig(sandbox, {
    CRM_CALLBACK_URL: 'http://127.0.0.1:9/callbacks',
    CRM_CALLBACK_SECRET: TEST_SECRET
  }),
  pollIntervalMs: 20
})

const status = (id: string) => activityStatus(app, id)
const inState = (id: string, states: string[]) => waitForState(() => status(id), states)

const newPerson = async () =>
  (await seedSandbox<{ id: number }>(sandbox, '/api/v2/persons', { name: uid('Person') })).id

/** Calls the sandbox saw since `from` to the activities endpoints, as `METHOD path`. */
const activityCallsSince = (from: number) =>
  sandbox.requests
    .slice(from)
    .filter((r) => r.path.startsWith('/api/v2/activities') && !(r.method === 'GET'))
    .map((r) => `${r.method} ${r.path}`)
const patchesSince = (from: number) =>
  sandbox.requests.slice(from).filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/v2/activities/'))

async function send(event: unknown, expected = 202) {
  const response = await postWebhook(app, event)
  if (response.statusCode !== expected) {
    throw new Error(`webhook answered ${response.statusCode}: ${response.body}`)
  }
  return response
}

/** A contact linked to a Pipedrive person, synced before the test goes on. */
async function linkedContact() {
  const personId = await newPerson()
  const contact = contactEvent({ pipedrivePersonId: personId })
  await send(contact)
  await eventually(async () => {
    const [row] = await rows<{ sync_state: string }>(
      app.db,
      sql`select sync_state from contacts where id = ${contact.data.id}`
    )
    return row?.sync_state === 'synced'
  })
  return { contactId: contact.data.id, personId }
}

/** A contact without a person (not warm): its activities wait for one. */
async function unlinkedContact() {
  const contact = contactEvent({ warmnessScore: 1, updatedAt: '2026-01-01T00:00:00.000Z' })
  await send(contact)
  const personId = await newPerson()
  const link = () =>
    send(
      contactEvent({ ...contact.data, pipedrivePersonId: personId, updatedAt: '2026-01-02T00:00:00.000Z' })
    )
  return { contactId: contact.data.id, personId, link }
}

const base = (contactId: string) => ({
  id: uid('a'),
  contactId,
  type: 'CALL',
  subject: 'Intro call',
  note: 'Talked about engines',
  dueAt: '2026-11-26T15:30:00+01:00',
  durationMinutes: 30,
  done: false,
  owner: null,
  createdAt: '2026-11-20T10:00:00.000Z'
})

const updated = (data: Record<string, unknown>, updatedAt: string) => ({
  type: 'activity.updated',
  timestamp: new Date().toISOString(),
  data: { ...data, updatedAt }
})

const deleted = (data: { id: string; contactId: string }) => ({
  type: 'activity.deleted',
  timestamp: new Date().toISOString(),
  data: { id: data.id, contactId: data.contactId, deletedAt: new Date().toISOString() }
})

/** A replicated activity: its data and its Pipedrive id. */
async function replicated() {
  const { contactId, personId } = await linkedContact()
  const data = base(contactId)
  await send(activityEvent(data))
  const s = await inState(data.id, ['synced', 'dead'])
  return { data, personId, pipedriveId: Number(s.pipedriveActivityId) }
}

/** Waits until the activity's jobs of `type` have all finished; returns the latest. */
async function jobDone(activityId: string, type: string, states = ['done', 'dead']) {
  return eventually(async () => {
    const jobs = await rows<{ state: string; last_error: string | null; attempts: number }>(
      app.db,
      sql`select state, last_error, attempts from jobs where type = ${type} and entity_id = ${activityId}
          order by id desc`
    )
    const [latest] = jobs
    return latest &&
      jobs.every((job) => ['done', 'dead'].includes(job.state)) &&
      states.includes(latest.state)
      ? latest
      : undefined
  })
}

async function callbacks(activityId: string, type: string) {
  const found = await rows<{ payload: { data: Record<string, unknown> } }>(
    app.db,
    sql`select payload from callback_outbox
        where type = ${type} and payload->'data'->>'activityId' = ${activityId} order by id`
  )
  return found.map((row) => row.payload.data)
}

const sandboxActivity = (id: number) => sandbox.store.activities.find((a) => a.id === id)

const inbox = async (webhookId: string) =>
  (await rows(app.db, sql`select 1 from webhook_inbox where webhook_id = ${webhookId}`)).length

t.test('an update of a replicated activity is one PATCH with only the changed fields', async (t) => {
  const { data, pipedriveId } = await replicated()
  const from = sandbox.requests.length
  await send(updated({ ...data, subject: 'Follow-up call', done: true }, '2026-11-21T10:00:00.000Z'))
  await jobDone(data.id, 'activity.update')
  const patches = patchesSince(from)
  t.equal(patches.length, 1, 'one PATCH')
  t.equal(patches[0]?.path, `/api/v2/activities/${pipedriveId}`)
  t.same(patches[0]?.body, { subject: 'Follow-up call', done: true }, 'only the changed fields')
  t.same(activityCallsSince(from), [`PATCH /api/v2/activities/${pipedriveId}`], 'no other write')
  t.match(sandboxActivity(pipedriveId), {
    subject: 'Follow-up call',
    done: true,
    note: 'Talked about engines'
  })
  t.same(await callbacks(data.id, 'pipedrive.activity.updated'), [
    { activityId: data.id, pipedriveActivityId: pipedriveId, fields: ['subject', 'done'] }
  ])
  t.match(await status(data.id), { state: 'synced', fields: ['subject', 'done'] })

  // The same state again (a newer event that changes nothing): no call at all.
  const again = sandbox.requests.length
  await send(updated({ ...data, subject: 'Follow-up call', done: true }, '2026-11-22T10:00:00.000Z'))
  await eventually(async () => {
    const [job] = await rows<{ n: number }>(
      app.db,
      sql`select count(*)::int as n from jobs where type = 'activity.update' and entity_id = ${data.id}
          and state = 'done'`
    )
    return (job?.n ?? 0) >= 2
  })
  t.same(activityCallsSince(again), [], 'nothing sent')

  // A cleared note and a new duration and due time: those three only.
  const third = sandbox.requests.length
  await send(
    updated(
      {
        ...data,
        subject: 'Follow-up call',
        done: true,
        note: null,
        durationMinutes: 45,
        dueAt: '2026-11-26T16:00:00+01:00'
      },
      '2026-11-23T10:00:00.000Z'
    )
  )
  await eventually(async () => patchesSince(third).length === 1)
  await jobDone(data.id, 'activity.update')
  t.same(patchesSince(third)[0]?.body, { note: '', due_time: '15:00', duration: '00:45' })
})

t.test('an older update is recorded and ignored; an equal one is applied', async (t) => {
  const { data, pipedriveId } = await replicated()
  await send(updated({ ...data, subject: 'Second' }, '2026-11-21T10:00:00.000Z'))
  await jobDone(data.id, 'activity.update')

  const from = sandbox.requests.length
  const stale = updated({ ...data, subject: 'Older' }, '2026-11-21T09:59:59.999Z')
  const response = await send(stale)
  t.same(response.json(), { accepted: true, id: response.json().id })
  t.equal(await inbox(response.json().id), 1, 'recorded in the inbox')
  const [row] = await rows<{ subject: string }>(
    app.db,
    sql`select subject from activities where id = ${data.id}`
  )
  t.equal(row?.subject, 'Second', 'the stored activity keeps the newer state')
  const [queued] = await rows<{ n: number }>(
    app.db,
    sql`select count(*)::int as n from jobs where entity_id = ${data.id} and state in ('pending', 'retrying')`
  )
  t.equal(queued?.n, 0, 'no work queued')

  await send(updated({ ...data, subject: 'Same instant' }, '2026-11-21T10:00:00.000Z'))
  await eventually(async () => patchesSince(from).length === 1)
  await jobDone(data.id, 'activity.update')
  t.same(patchesSince(from)[0]?.body, { subject: 'Same instant' }, 'equal updatedAt is applied')
  t.equal(sandboxActivity(pipedriveId)?.subject, 'Same instant')
})

t.test('an update before replication: one create with the newest data, no PATCH', async (t) => {
  const { contactId, personId, link } = await unlinkedContact()
  const data = base(contactId)
  await send(activityEvent(data))
  await inState(data.id, ['waiting_for_person'])
  await send(updated({ ...data, subject: 'Renamed', durationMinutes: 60 }, '2026-11-21T10:00:00.000Z'))
  await jobDone(data.id, 'activity.update')
  const from = sandbox.requests.length
  await link()
  const s = await inState(data.id, ['synced', 'dead'])
  t.equal(s.state, 'synced')
  await jobDone(data.id, 'activity.update')
  const calls = activityCallsSince(from)
  t.same(calls, ['POST /api/v2/activities'], 'one create, no PATCH')
  const created = sandbox.store.activities.filter((a) => a.person_id === personId)
  t.equal(created.length, 1)
  t.match(created[0], { subject: 'Renamed', duration: '01:00' })
  t.same(await callbacks(data.id, 'pipedrive.activity.updated'), [], 'no update callback')
})

t.test('an update for an activity never seen creates it, once', async (t) => {
  const { contactId, personId } = await linkedContact()
  const data = base(contactId)
  const from = sandbox.requests.length
  await send(updated({ ...data, subject: 'Only updated' }, '2026-11-21T10:00:00.000Z'))
  t.match(await inState(data.id, ['synced', 'dead']), { state: 'synced' })
  t.same(activityCallsSince(from), ['POST /api/v2/activities'])
  t.match(
    sandbox.store.activities.filter((a) => a.person_id === personId),
    [{ subject: 'Only updated' }]
  )
  // The create that comes late is known already: nothing more.
  await send(activityEvent(data))
  await send(updated({ ...data, subject: 'Older' }, '2026-11-20T10:00:00.000Z'))
  t.same(activityCallsSince(from), ['POST /api/v2/activities'])
})

t.test('deleting a replicated activity: one DELETE, state deleted, callback', async (t) => {
  const { data, pipedriveId } = await replicated()
  const from = sandbox.requests.length
  await send(deleted(data))
  const s = await inState(data.id, ['deleted'])
  t.match(s, { state: 'deleted', pipedriveActivityId: String(pipedriveId) })
  t.notOk('lastError' in s)
  await jobDone(data.id, 'activity.delete')
  t.same(activityCallsSince(from), [`DELETE /api/v2/activities/${pipedriveId}`])
  t.equal(sandboxActivity(pipedriveId), undefined, 'gone from Pipedrive')
  t.same(await callbacks(data.id, 'pipedrive.activity.deleted'), [
    { activityId: data.id, pipedriveActivityId: pipedriveId }
  ])

  // Events after the delete are recorded and ignored.
  const again = await send(deleted(data))
  const late = await send(updated({ ...data, subject: 'Back?' }, '2030-01-01T00:00:00.000Z'))
  const created = await send(activityEvent(data))
  t.equal(await inbox(again.json().id), 1)
  t.equal(await inbox(late.json().id), 1)
  t.equal(await inbox(created.json().id), 1)
  const [row] = await rows<{ subject: string }>(
    app.db,
    sql`select subject from activities where id = ${data.id}`
  )
  t.equal(row?.subject, 'Intro call', 'the late update changed nothing')
  const [queued] = await rows<{ n: number }>(
    app.db,
    sql`select count(*)::int as n from jobs where entity_id = ${data.id} and state in ('pending', 'retrying', 'running')`
  )
  t.equal(queued?.n, 0, 'nothing queued')
  t.same(activityCallsSince(from), [`DELETE /api/v2/activities/${pipedriveId}`], 'nothing re-created')
  t.equal((await callbacks(data.id, 'pipedrive.activity.deleted')).length, 1, 'one callback')
})

t.test('deleting an activity never replicated: no call, never created', async (t) => {
  const { contactId, personId, link } = await unlinkedContact()
  const data = base(contactId)
  await send(activityEvent(data))
  await inState(data.id, ['waiting_for_person'])
  const from = sandbox.requests.length
  await send(deleted(data))
  t.match(await inState(data.id, ['deleted']), { state: 'deleted' })
  t.same(await callbacks(data.id, 'pipedrive.activity.deleted'), [
    { activityId: data.id, pipedriveActivityId: null }
  ])
  await send(updated({ ...data, subject: 'Late' }, '2030-01-01T00:00:00.000Z'))
  await link()
  await eventually(async () => {
    const [row] = await rows<{ sync_state: string }>(
      app.db,
      sql`select sync_state from contacts where id = ${contactId}`
    )
    return row?.sync_state === 'synced'
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(activityCallsSince(from), [], 'zero activity calls')
  t.equal(sandbox.store.activities.filter((a) => a.person_id === personId).length, 0)
  t.match(await status(data.id), { state: 'deleted', synced: false })
})

t.test('a delete cancels a replication waiting for its retry', async (t) => {
  const { contactId, personId } = await linkedContact()
  const data = base(contactId)
  sandbox.faults.set({ down: true })
  await send(activityEvent(data))
  await inState(data.id, ['retrying'])
  await send(deleted(data))
  sandbox.faults.clear()
  const from = sandbox.requests.length
  t.match(await inState(data.id, ['deleted']), { state: 'deleted', synced: false })
  await jobDone(data.id, 'activity.delete')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(activityCallsSince(from), [], 'no create after the delete')
  t.equal(sandbox.store.activities.filter((a) => a.person_id === personId).length, 0)
  const [waiting] = await rows<{ n: number }>(
    app.db,
    sql`select count(*)::int as n from jobs where type = 'activity.replicate' and entity_id = ${data.id}`
  )
  t.equal(waiting?.n, 0, 'the waiting replication was cancelled, not run')
})

t.test('an update and a delete racing: the delete wins, nothing re-created', async (t) => {
  const { data, pipedriveId, personId } = await replicated()
  const from = sandbox.requests.length
  await Promise.all([
    send(updated({ ...data, subject: 'Racing' }, '2026-11-21T10:00:00.000Z')),
    send(deleted(data))
  ])
  await inState(data.id, ['deleted'])
  await new Promise((resolve) => setTimeout(resolve, 200))
  const calls = activityCallsSince(from)
  t.notOk(
    calls.some((call) => call.startsWith('POST')),
    'no create'
  )
  t.equal(calls.filter((call) => call.startsWith('DELETE')).length, 1, 'one DELETE')
  t.equal(sandbox.store.activities.filter((a) => a.person_id === personId).length, 0)
  t.equal(sandboxActivity(pipedriveId), undefined)
})

t.test('a DELETE answered 404 or 410 counts as done', async (t) => {
  for (const status of [404, 410]) {
    const { data, pipedriveId } = await replicated()
    const from = sandbox.requests.length
    sandbox.faults.set({
      failNext: { count: 1, status, method: 'DELETE', path: `/api/v2/activities/${pipedriveId}` }
    })
    await send(deleted(data))
    t.match(await inState(data.id, ['deleted', 'dead']), { state: 'deleted' }, `${status}: deleted`)
    t.match(await jobDone(data.id, 'activity.delete'), { state: 'done', attempts: 1 })
    t.same(activityCallsSince(from), [`DELETE /api/v2/activities/${pipedriveId}`], `${status}: one call`)
    sandbox.faults.clear()
  }
})

t.test('a PATCH answered 404 is dead at once with a clear error, not retried', async (t) => {
  const { data, pipedriveId } = await replicated()
  // Deleted in Pipedrive by someone else: it answers 404 from now on.
  await fetch(`${sandbox.url}/api/v2/activities/${pipedriveId}`, {
    method: 'DELETE',
    headers: { 'x-api-token': sandbox.token }
  })
  const from = sandbox.requests.length
  await send(updated({ ...data, subject: 'Too late' }, '2026-11-21T10:00:00.000Z'))
  const job = await jobDone(data.id, 'activity.update', ['dead'])
  t.equal(job.attempts, 1, 'one round')
  t.match(job.last_error, new RegExp(`Pipedrive activity ${pipedriveId} no longer exists \\(404\\)`))
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(patchesSince(from).length, 1, 'one PATCH, no loop')
  const failures = await app.inject({
    url: '/api/sync/failures',
    headers: { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
  })
  t.match(
    failures.json().items.find((item: { id: string }) => item.id === data.id),
    { entity: 'activity', state: 'dead', lastError: /no longer exists/ },
    'listed among the failures'
  )
  t.same(await callbacks(data.id, 'pipedrive.activity.updated'), [])
})

t.test('bad activity.updated and activity.deleted events are 400s naming the field', async (t) => {
  const data = base(uid('c'))
  const cases: [unknown, string][] = [
    [{ type: 'activity.updated', timestamp: new Date().toISOString(), data }, 'data.updatedAt'],
    [updated({ ...data, subject: '' }, '2026-11-21T10:00:00.000Z'), 'data.subject'],
    [updated(data, 'yesterday'), 'data.updatedAt'],
    [
      {
        type: 'activity.deleted',
        timestamp: new Date().toISOString(),
        data: { id: data.id, contactId: data.contactId }
      },
      'data.deletedAt'
    ],
    [
      {
        type: 'activity.deleted',
        timestamp: new Date().toISOString(),
        data: { id: '', contactId: 'c', deletedAt: new Date().toISOString() }
      },
      'data.id'
    ],
    [
      {
        type: 'activity.deleted',
        timestamp: new Date().toISOString(),
        data: { id: 'a', deletedAt: new Date().toISOString() }
      },
      'data.contactId'
    ]
  ]
  for (const [event, field] of cases) {
    const response = await postWebhook(app, event)
    t.equal(response.statusCode, 400, field)
    t.match(response.json().message, field, `names ${field}`)
  }
})
