import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import {
  activityEvent,
  activityStatus,
  build,
  contactEvent,
  contactStatus,
  eventually,
  postWebhook,
  sandboxConfig,
  seedSandbox,
  testDatabase,
  testSandbox,
  uid
} from '../helper.js'

// `contact.deleted` through the whole service: the intake, the worker, the sandbox, the outbox.
const database = await testDatabase(t)
const sandbox = await testSandbox(t)
// Callbacks are stored (and their delivery fails): the outbox is read directly.
const CALLBACKS = {
  CRM_CALLBACK_URL: 'http://127.0.0.1:9/callbacks',
  CRM_CALLBACK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
}

type Test = Parameters<typeof build>[0]
/** An app of its own for one test; `worker: false` records events without running them. */
const service = (t: Test, overrides: Record<string, string> = {}, { worker = true } = {}) =>
  build(t, database, { config: sandboxConfig(sandbox, { ...CALLBACKS, ...overrides }), startWorker: worker })

const deletedEvent = (id: string, data: Record<string, unknown> = {}) => ({
  type: 'contact.deleted',
  timestamp: new Date().toISOString(),
  data: { id, deletedAt: new Date().toISOString(), ...data }
})
const callsSince = (from: number) => sandbox.requests.slice(from).map((r) => `${r.method} ${r.path}`)
const newPerson = async () =>
  (await seedSandbox<{ id: number }>(sandbox, '/api/v2/persons', { name: uid('Person') })).id
const jobsOf = (app: FastifyInstance, contactId: string) =>
  rows<{ type: string; state: string; last_error: string | null }>(
    app.db,
    sql`select type, state, last_error from jobs where serial_key = ${contactId} order by id`
  )
const settled = (app: FastifyInstance, contactId: string) =>
  eventually(
    async () => (await jobsOf(app, contactId)).every((job) => job.state === 'done' || job.state === 'dead'),
    10_000,
    { what: `the jobs of ${contactId} to settle` }
  )
const callbacksNaming = (app: FastifyInstance, contactId: string) =>
  rows<{ type: string; payload: { data: Record<string, unknown> } }>(
    app.db,
    sql`select type, payload from callback_outbox where payload->'data'->>'contactId' = ${contactId} order by id`
  )

/** Every text and jsonb column of every table of the service's schema that holds `needle`. */
async function placesHolding(app: FastifyInstance, needles: string[]): Promise<string[]> {
  const columns = await rows<{ table_name: string; column_name: string }>(
    app.db,
    sql`select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and data_type in ('text', 'jsonb', 'json', 'character varying')`
  )
  t.ok(columns.length >= 20, 'the scan sees the tables')
  const found: string[] = []
  for (const { table_name: table, column_name: column } of columns) {
    for (const needle of needles) {
      const [hit] = await rows<{ n: number }>(
        app.db,
        sql`select count(*)::int as n from ${sql.identifier(table)}
          where ${sql.identifier(column)}::text ilike ${`%${needle}%`}`
      )
      if ((hit?.n ?? 0) > 0) found.push(`${table}.${column}: ${needle}`)
    }
  }
  return found
}

t.afterEach(async () => sandbox.faults.clear())

t.test("a delete cancels the contact's queued sync and its activities' replications", async (t) => {
  const intake = await service(t, {}, { worker: false })
  const contact = contactEvent({ email: `${uid('q')}@example.com` })
  const id = contact.data.id
  t.equal((await postWebhook(intake, contact)).statusCode, 202)
  const first = activityEvent({ contactId: id })
  const second = activityEvent({ contactId: id })
  await postWebhook(intake, first)
  await postWebhook(intake, second)
  // A dead round of the contact: retry-dead must never run it again.
  await intake.db.execute(sql`update jobs set state = 'dead', failed_at = now(), last_error = 'failed'
    where serial_key = ${id} and entity_id = ${second.data.id}`)

  t.equal((await postWebhook(intake, deletedEvent(id))).statusCode, 202)
  t.same(
    (await jobsOf(intake, id)).map((job) => job.state),
    ['done', 'done', 'done'],
    'the waiting and dead jobs end'
  )
  const replayed = await intake.inject({
    method: 'POST',
    url: '/api/sync/retry-dead',
    headers: { authorization: `Bearer ${intake.config.OPERATOR_API_KEY}` }
  })
  t.equal(replayed.statusCode, 202)
  const failures = await intake.inject({
    url: '/api/sync/failures',
    headers: { authorization: `Bearer ${intake.config.OPERATOR_API_KEY}` }
  })
  t.notOk(
    (failures.json() as { items: Array<{ id: string }> }).items.some((item) =>
      [id, first.data.id, second.data.id].includes(item.id)
    ),
    'none of them is a failure'
  )

  const from = sandbox.requests.length
  const worker = await service(t)
  worker.jobs.notify()
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.same(callsSince(from), [], 'no Pipedrive call for the deleted contact')
  t.same((await jobsOf(worker, id)).length, 3, 'nothing was queued again')
  t.match(await contactStatus(worker, id), { state: 'deleted', erased: false })
  t.match(await activityStatus(worker, first.data.id), { state: 'deleted', synced: false })
  t.match(await activityStatus(worker, second.data.id), { state: 'deleted' })
})

t.test('events after a delete are recorded and ignored', async (t) => {
  const app = await service(t)
  const id = uid('c')
  t.equal((await postWebhook(app, deletedEvent(id))).statusCode, 202, 'a contact never seen')
  t.match(await contactStatus(app, id), { success: true, state: 'deleted', erased: false })
  const later = contactEvent({ id, updatedAt: new Date(Date.now() + 60_000).toISOString() })
  const activity = activityEvent({ contactId: id })
  // An update of an activity never seen would otherwise create it.
  const updated = activityEvent({ contactId: id, updatedAt: new Date().toISOString() })
  updated.type = 'activity.updated'
  const from = sandbox.requests.length
  t.equal((await postWebhook(app, later)).statusCode, 202)
  t.equal((await postWebhook(app, activity)).statusCode, 202)
  t.equal((await postWebhook(app, updated)).statusCode, 202)
  t.equal((await postWebhook(app, deletedEvent(id))).statusCode, 202, 'a second delete')
  const inbox = await rows<{ type: string }>(
    app.db,
    sql`select type from webhook_inbox where payload->'data'->>'id' = ${id}
      or payload->'data'->>'contactId' = ${id} order by received_at`
  )
  t.same(
    inbox.map((row) => row.type),
    ['contact.deleted', 'contact.updated', 'activity.created', 'activity.updated', 'contact.deleted'],
    'every event is in the inbox'
  )
  t.match(
    await rows(app.db, sql`select name, email from contacts where id = ${id}`),
    [{ name: '', email: null }],
    'the update was not applied'
  )
  t.same(
    await rows(app.db, sql`select id from activities where id in (${activity.data.id}, ${updated.data.id})`),
    []
  )
  t.same(await jobsOf(app, id), [], 'no work queued')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(callsSince(from), [])
  t.match(await contactStatus(app, id), { state: 'deleted' })
})

/** A contact linked to a sandbox person, with one replicated activity. */
async function syncedContact(app: FastifyInstance, personId?: number) {
  const linked = personId ?? (await newPerson())
  const contact = contactEvent({ pipedrivePersonId: linked })
  const activity = activityEvent({ contactId: contact.data.id })
  await postWebhook(app, contact)
  await postWebhook(app, activity)
  await eventually(async () => (await activityStatus(app, activity.data.id)).state === 'synced', 10_000)
  return { id: contact.data.id, personId: linked, activityId: activity.data.id }
}

t.test('without PIPEDRIVE_DELETE_PERSONS nothing is deleted in Pipedrive', async (t) => {
  const app = await service(t)
  const { id, activityId } = await syncedContact(app)
  const from = sandbox.requests.length
  t.equal((await postWebhook(app, deletedEvent(id))).statusCode, 202)
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.same(callsSince(from), [], 'zero calls')
  t.notOk((await jobsOf(app, id)).some((job) => job.type === 'person.delete'))
  t.match(
    await activityStatus(app, activityId),
    { state: 'deleted', synced: true },
    'replicated, now deleted'
  )
  t.match(await contactStatus(app, id), { state: 'deleted' })
})

t.test('with PIPEDRIVE_DELETE_PERSONS=true the person is deleted once, and the CRM told', async (t) => {
  const app = await service(t, { PIPEDRIVE_DELETE_PERSONS: 'true' })
  const { id, personId } = await syncedContact(app)
  const from = sandbox.requests.length
  t.equal((await postWebhook(app, deletedEvent(id))).statusCode, 202)
  await eventually(async () =>
    (await jobsOf(app, id)).some((j) => j.type === 'person.delete' && j.state === 'done')
  )
  t.same(callsSince(from), [`DELETE /api/v2/persons/${personId}`], 'one DELETE')
  t.notOk(
    sandbox.store.persons.some((person) => person.id === personId),
    'the person is gone'
  )
  t.match(
    (await callbacksNaming(app, id)).filter((c) => c.type === 'pipedrive.person.deleted'),
    [{ payload: { data: { contactId: id, pipedrivePersonId: personId } } }]
  )
})

t.test('a person Pipedrive no longer has (404) is done, without a callback', async (t) => {
  const app = await service(t, { PIPEDRIVE_DELETE_PERSONS: 'true' })
  const personId = await newPerson()
  const { id } = await syncedContact(app, personId)
  sandbox.store.persons = sandbox.store.persons.filter((person) => person.id !== personId)
  const from = sandbox.requests.length
  await postWebhook(app, deletedEvent(id))
  await eventually(async () =>
    (await jobsOf(app, id)).some((j) => j.type === 'person.delete' && j.state === 'done')
  )
  t.same(callsSince(from), [`DELETE /api/v2/persons/${personId}`])
  t.same(
    (await callbacksNaming(app, id)).filter((c) => c.type === 'pipedrive.person.deleted'),
    []
  )
  t.notOk(
    (await jobsOf(app, id)).some((job) => job.last_error !== null),
    'no failure recorded'
  )
})

/** Strings only this contact's data holds. */
function personalData() {
  const tag = uid('x').slice(2)
  return {
    name: `Grace ${tag}`,
    email: `grace.${tag}@example.com`,
    phone: `+1 555 ${tag.slice(0, 6)}`,
    subject: `Subject ${tag}`,
    note: `Note ${tag}`,
    ownerName: `Owner ${tag}`
  }
}

t.test('an erasure leaves none of the contact’s strings anywhere in the database', async (t) => {
  const app = await service(t)
  const data = personalData()
  const contact = contactEvent({ name: data.name, email: data.email, phone: data.phone })
  const id = contact.data.id
  const activity = activityEvent({
    contactId: id,
    subject: data.subject,
    note: data.note,
    owner: { id: 'u_x', email: 'owner@crm.example', name: data.ownerName }
  })
  await postWebhook(app, contact)
  await postWebhook(app, activity)
  await eventually(async () => (await activityStatus(app, activity.data.id)).state === 'synced', 15_000)
  // A second update (another inbox row), and failure texts that quote the contact.
  await postWebhook(app, contactEvent({ ...contact.data, updatedAt: new Date().toISOString() }))
  await settled(app, id)
  await app.db.execute(sql`update jobs set last_error = ${`rejected ${data.email}`} where serial_key = ${id}`)
  await app.db.execute(sql`insert into callback_outbox (webhook_id, type, payload) values (${uid('msg')},
    'pipedrive.sync.failed', ${JSON.stringify({ data: { entity: 'contact', id, error: `bad ${data.phone}` } })}::jsonb)`)
  const needles = [data.name, data.email, data.phone, data.subject, data.note, data.ownerName]
  t.ok((await placesHolding(app, needles)).length > 0, 'the scan finds the data before')

  const started = Date.now()
  t.equal((await postWebhook(app, deletedEvent(id, { erase: true }))).statusCode, 202)
  await eventually(async () => (await placesHolding(app, needles)).length === 0, 10_000)
  t.ok(Date.now() - started < 10_000, 'within 10 s of the 202')
  t.match(await contactStatus(app, id), { success: true, state: 'deleted', erased: true })
  t.match(await activityStatus(app, activity.data.id), { state: 'deleted' })
  const [kept] = await rows<{ linked: boolean; erased: boolean }>(
    app.db,
    sql`select pipedrive_person_id is not null as linked, erased_at is not null as erased from contacts where id = ${id}`
  )
  t.same(kept, { linked: true, erased: true }, 'ids and times stay')
})

t.test('a contact deleted before is erased by a later delete that asks for it', async (t) => {
  const app = await service(t, {}, { worker: false })
  const data = personalData()
  const contact = contactEvent({ name: data.name, email: data.email, phone: data.phone })
  await postWebhook(app, contact)
  await postWebhook(app, deletedEvent(contact.data.id))
  t.ok((await placesHolding(app, [data.email])).length > 0, 'a plain delete keeps the data')
  await postWebhook(app, deletedEvent(contact.data.id, { erase: true }))
  t.same(await placesHolding(app, [data.name, data.email, data.phone]), [])
  t.match(await contactStatus(app, contact.data.id), { state: 'deleted', erased: true })
})

t.test('an erasure while a sync of the contact is in flight: its result is discarded', async (t) => {
  const app = await service(t)
  const data = personalData()
  const contact = contactEvent({ name: data.name, email: data.email, phone: data.phone, warmnessScore: 5 })
  const id = contact.data.id
  sandbox.faults.set({ delayAnswer: { ms: 800, method: 'POST', path: '/api/v2/persons' } })
  await postWebhook(app, contact)
  await eventually(async () =>
    sandbox.requests.some(
      (r) =>
        r.method === 'POST' &&
        (r.body as { emails?: Array<{ value: string }> })?.emails?.[0]?.value === data.email
    )
  )
  t.equal((await postWebhook(app, deletedEvent(id, { erase: true }))).statusCode, 202)
  await settled(app, id)
  t.same(await placesHolding(app, [data.name, data.email, data.phone]), [], 'nothing personal afterwards')
  const created = sandbox.store.persons.find((person) => person.emails?.[0]?.value === data.email)
  t.ok(created, 'the create in flight reached Pipedrive')
  t.same(
    await rows(app.db, sql`select pipedrive_person_id, sync_state from contacts where id = ${id}`),
    [{ pipedrive_person_id: created?.id, sync_state: 'sending_person' }],
    'the round’s link was refused: only the person id is kept'
  )
  t.same(await callbacksNaming(app, id), [], 'no callback of the discarded round')
  t.same(
    (await jobsOf(app, id)).map((job) => [job.state, job.last_error]),
    [['done', null]],
    'the round ended done, no error stored'
  )
  t.match(await contactStatus(app, id), { state: 'deleted', erased: true })
})

t.test('a person created while the delete arrived is deleted too (PIPEDRIVE_DELETE_PERSONS)', async (t) => {
  const app = await service(t, { PIPEDRIVE_DELETE_PERSONS: 'true' })
  const email = `${uid('inflight')}@example.com`
  const contact = contactEvent({ email, warmnessScore: 5 })
  const id = contact.data.id
  sandbox.faults.set({ delayAnswer: { ms: 600, method: 'POST', path: '/api/v2/persons' } })
  await postWebhook(app, contact)
  await eventually(async () =>
    sandbox.requests.some(
      (r) =>
        r.method === 'POST' && (r.body as { emails?: Array<{ value: string }> })?.emails?.[0]?.value === email
    )
  )
  await postWebhook(app, deletedEvent(id))
  await eventually(async () =>
    (await jobsOf(app, id)).some((j) => j.type === 'person.delete' && j.state === 'done')
  )
  const created = sandbox.store.deleted.persons.find((person) => person.emails?.[0]?.value === email)
  t.ok(created, 'the person the round created is deleted')
  t.notOk(sandbox.store.persons.some((person) => person.emails?.[0]?.value === email))
  t.match(
    (await callbacksNaming(app, id)).map((c) => c.type),
    ['pipedrive.person.deleted'],
    'only the delete is announced'
  )
})
