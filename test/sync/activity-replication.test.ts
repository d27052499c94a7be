import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import { JOB_TYPES } from '../../src/jobs/job-types.js'
import { enqueue } from '../../src/store/jobs.js'
import {
  activityEvent,
  activityStatus,
  build,
  contactEvent,
  eventually,
  postWebhook,
  sandboxConfig,
  seedSandbox,
  testDatabase,
  testSandbox,
  uid,
  waitForState
} from '../helper.js'

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const app = await build(t, database, { config: sandboxConfig(sandbox), pollIntervalMs: 20 })

const status = (id: string) => activityStatus(app, id)
const inState = (id: string, states: string[]) => waitForState(() => status(id), states)
const settled = (id: string) => inState(id, ['synced', 'waiting_for_person', 'skipped', 'dead'])

const seed = <T>(path: string, body: unknown) => seedSandbox<T>(sandbox, path, body)
const newPerson = async () => (await seed<{ id: number }>('/api/v2/persons', { name: uid('Person') })).id
const newOrganization = async () =>
  (await seed<{ id: number }>('/api/v2/organizations', { name: uid('Org') })).id

const activitiesOf = (personId: number) => sandbox.store.activities.filter((a) => a.person_id === personId)
/** Create calls the sandbox saw since `from` (faulted ones carry no body: they are counted by path). */
const createsSince = (from: number) =>
  sandbox.requests.slice(from).filter((r) => r.method === 'POST' && r.path === '/api/v2/activities')

/** A contact already linked to a Pipedrive person (as the CRM says), synced before the test goes on. */
async function linkedContact(extra: Record<string, unknown> = {}) {
  const personId = await newPerson()
  const contact = contactEvent({ pipedrivePersonId: personId, ...extra })
  await postWebhook(app, contact)
  await eventually(async () => {
    const [row] = await rows<{ sync_state: string }>(
      app.db,
      sql`select sync_state from contacts where id = ${contact.data.id}`
    )
    return row?.sync_state === 'synced'
  })
  return { contactId: contact.data.id, personId }
}

async function logActivity(data: Record<string, unknown>) {
  const event = activityEvent(data)
  const response = await postWebhook(app, event)
  if (response.statusCode !== 202)
    throw new Error(`webhook answered ${response.statusCode}: ${response.body}`)
  return event.data.id
}

t.afterEach(async () => sandbox.faults.clear())

t.test('replicates an activity of a contact with a Pipedrive person and stores its id', async (t) => {
  const { contactId, personId } = await linkedContact()
  const id = await logActivity({
    contactId,
    type: 'CALL',
    subject: 'Intro call',
    note: '<p>Talked about <b>engines</b></p>',
    dueAt: '2026-11-26T15:30:00+01:00',
    durationMinutes: 90,
    done: true
  })
  const s = await settled(id)
  const [created] = activitiesOf(personId)
  t.ok(created, 'the activity exists in Pipedrive')
  t.match(created, {
    subject: 'Intro call',
    type: 'call',
    due_date: '2026-11-26',
    due_time: '14:30',
    duration: '01:30',
    note: '<p>Talked about <b>engines</b></p>',
    done: true,
    owner_id: 1001,
    org_id: null,
    participants: [{ person_id: personId, primary: true }]
  })
  t.same(Object.keys(s).sort(), [
    'lastAttempt',
    'pipedriveActivityId',
    'state',
    'success',
    'syncAttempts',
    'synced'
  ])
  t.match(s, { success: true, synced: true, state: 'synced', syncAttempts: 1 })
  t.equal(s.pipedriveActivityId, String(created?.id), 'the Pipedrive id, as a string')
  t.equal(new Date(s.lastAttempt ?? '').toISOString(), s.lastAttempt, 'lastAttempt is ISO 8601')
  const [row] = await rows<{
    pipedrive_activity_id: number
    replicated_to_pipedrive: boolean
    state: string
  }>(
    app.db,
    sql`select pipedrive_activity_id, replicated_to_pipedrive, state from activities where id = ${id}`
  )
  t.same(row, { pipedrive_activity_id: created?.id, replicated_to_pipedrive: true, state: 'synced' })
})

t.test('the person from the payload is used when the service has no mapping', async (t) => {
  const personId = await newPerson()
  const contact = contactEvent({ warmnessScore: 1 })
  await postWebhook(app, contact)
  const id = await logActivity({ contactId: contact.data.id, pipedrivePersonId: personId, dueAt: null })
  t.match(await settled(id), { state: 'synced' })
  const [created] = activitiesOf(personId)
  t.match(created, { due_date: null, due_time: null, duration: '00:30' })
})

t.test('the organization is sent when known', async (t) => {
  const orgId = await newOrganization()
  const { contactId, personId } = await linkedContact({
    organization: { id: uid('o'), name: uid('Org'), pipedriveOrgId: orgId }
  })
  const id = await logActivity({ contactId })
  t.match(await settled(id), { state: 'synced' })
  t.equal(activitiesOf(personId)[0]?.org_id, orgId)
})

t.test('maps all six CRM types to the account types', async (t) => {
  const { contactId, personId } = await linkedContact()
  const expected = {
    CALL: 'call',
    EMAIL: 'email',
    MEETING: 'meeting',
    LINKEDIN: 'task',
    REFERRAL: 'task',
    CONFERENCE: 'meeting'
  }
  for (const [type, key] of Object.entries(expected)) {
    const id = await logActivity({ contactId, type, subject: `${type} subject` })
    const s = await settled(id)
    t.equal(s.state, 'synced', type)
    t.notOk(s.warning, `${type}: no warning`)
    const created = activitiesOf(personId).find((a) => String(a.id) === s.pipedriveActivityId)
    t.equal(created?.type, key, `${type} → ${key}`)
    t.equal(created?.subject, `${type} subject`)
  }
  const typeReads = sandbox.requests.filter((r) => r.path === '/api/v1/activityTypes').length
  t.equal(typeReads, 1, 'the account types are read once and cached')
})

t.test('once caches are warm, an activity costs one Pipedrive call', async (t) => {
  const { contactId, personId } = await linkedContact()
  await settled(await logActivity({ contactId }))
  const before = sandbox.requests.length
  const id = await logActivity({ contactId, subject: 'Second call' })
  t.match(await settled(id), { state: 'synced' })
  t.same(
    sandbox.requests.slice(before).map((r) => `${r.method} ${r.path}`),
    ['POST /api/v2/activities']
  )
  t.equal(activitiesOf(personId).length, 2)
})

t.test('time zones reach Pipedrive as UTC date and time', async (t) => {
  const { contactId, personId } = await linkedContact()
  const cases = [
    ['2026-11-26T23:30:00-05:00', '2026-11-27', '04:30'],
    ['2026-11-27T00:30:00+09:00', '2026-11-26', '15:30'],
    ['2026-03-29T03:30:00+02:00', '2026-03-29', '01:30'],
    ['2026-11-01T01:30:00-05:00', '2026-11-01', '06:30'],
    ['2026-11-26', '2026-11-26', null]
  ] as const
  for (const [dueAt, date, time] of cases) {
    const id = await logActivity({ contactId, dueAt, subject: `Due ${dueAt}` })
    const s = await settled(id)
    const created = activitiesOf(personId).find((a) => String(a.id) === s.pipedriveActivityId)
    t.same([created?.due_date, created?.due_time], [date, time], dueAt)
  }
})

t.test('owner: the activity owner, else the contact owner, else none, with a warning', async (t) => {
  const { contactId, personId } = await linkedContact()
  const ownerOf = async (owner: unknown) => {
    const id = await logActivity({ contactId, owner, subject: uid('Owned') })
    const s = await settled(id)
    const created = activitiesOf(personId).find((a) => String(a.id) === s.pipedriveActivityId)
    return { ownerId: created?.owner_id, warning: s.warning, state: s.state }
  }
  t.same(await ownerOf({ id: 'u_2', email: 'Sales@CRM.example' }), {
    ownerId: 1002,
    warning: undefined,
    state: 'synced'
  })
  t.same(await ownerOf(null), { ownerId: 1001, warning: undefined, state: 'synced' }, "the contact's owner")
  t.same(await ownerOf({ id: 'u_9', email: 'nobody@crm.example' }), {
    ownerId: 1001,
    warning: 'no active Pipedrive user has the email nobody@crm.example: owner set to owner@crm.example',
    state: 'synced'
  })

  const ghost = await linkedContact({ owner: { id: 'u_8', email: 'ghost@crm.example' } })
  const from = sandbox.requests.length
  const id = await logActivity({
    contactId: ghost.contactId,
    owner: { id: 'u_3', email: 'former@crm.example' }
  })
  const s = await settled(id)
  t.equal(s.state, 'synced', 'replicated anyway')
  t.equal(
    s.warning,
    'no active Pipedrive user has the email former@crm.example or ghost@crm.example: created without an owner'
  )
  t.notOk((createsSince(from)[0]?.body as Record<string, unknown> | undefined)?.owner_id, 'no owner_id sent')
})

t.test('retries: 3 in-line retries, then the job is rescheduled; every create is counted', async (t) => {
  const { contactId, personId } = await linkedContact()
  const from = sandbox.requests.length
  sandbox.faults.set({ failNext: { count: 4, status: 503, method: 'POST', path: '/api/v2/activities' } })
  const id = await logActivity({ contactId })
  const s = await inState(id, ['synced'])
  t.equal(createsSince(from).length, 5, '4 failed creates (1 + 3 retries), then 1 in the next round')
  t.equal(s.syncAttempts, 5, 'syncAttempts counts every create call')
  t.equal(activitiesOf(personId).length, 1, 'one Pipedrive activity')
  // The activity is synced inside the job's round, before the worker writes the job's outcome.
  const [job] = await eventually(
    async () => {
      const found = await rows<{ attempts: number; state: string }>(
        app.db,
        sql`select attempts, state from jobs where type = ${JOB_TYPES.activityReplicate} and entity_id = ${id}`
      )
      return found.every((row) => row.state !== 'running') && found
    },
    10_000,
    { what: "the activity job's outcome written" }
  )
  t.same(job, { attempts: 2, state: 'done' }, 'the first round failed and was rescheduled')
  const lastCreate = createsSince(from).at(-1)
  t.ok(s.lastAttempt && lastCreate && Date.parse(s.lastAttempt) <= Date.parse(lastCreate.at))
})

t.test('while Pipedrive is down the activity is retrying, then synced', async (t) => {
  const { contactId, personId } = await linkedContact()
  sandbox.faults.set({ down: true })
  const id = await logActivity({ contactId })
  const retrying = await inState(id, ['retrying'])
  t.match(retrying, { success: true, synced: false, state: 'retrying' })
  t.match(retrying.lastError, /503/)
  // After the first create failed with a 503 (which Pipedrive may have processed), every further
  // attempt must look first; the look-ups fail too, so no second create is sent while down.
  t.equal(retrying.syncAttempts, 1, 'one create, then only look-ups')
  t.ok(retrying.lastAttempt)
  sandbox.faults.clear()
  const synced = await inState(id, ['synced'])
  t.notOk(synced.lastError, 'no error once synced')
  t.equal(synced.syncAttempts, 2, 'the look-up found nothing: created once more')
  t.equal(activitiesOf(personId).length, 1)
})

t.test('a 4xx is not retried: the job is dead with what Pipedrive answered', async (t) => {
  const { contactId } = await linkedContact()
  const from = sandbox.requests.length
  sandbox.faults.set({
    failNext: { count: 1, status: 400, method: 'POST', path: '/api/v2/activities', message: 'subject is bad' }
  })
  const id = await logActivity({ contactId })
  const s = await inState(id, ['dead'])
  t.match(s, { success: true, synced: false, state: 'dead', syncAttempts: 1 })
  t.match(s.lastError, /400.*subject is bad/)
  t.equal(createsSince(from).length, 1, 'no retry')
})

t.test('a redelivered event or a re-run job never makes a second Pipedrive activity', async (t) => {
  const { contactId, personId } = await linkedContact()
  const from = sandbox.requests.length
  const event = activityEvent({ contactId })
  const first = await postWebhook(app, event, { id: 'msg-redelivered-1' })
  t.equal(first.statusCode, 202)
  await settled(event.data.id)
  const again = await postWebhook(app, event, { id: 'msg-redelivered-1' })
  t.equal(again.statusCode, 200, 'same webhook id: duplicate')
  const otherId = await postWebhook(app, event, { id: 'msg-redelivered-2' })
  t.equal(otherId.statusCode, 202, 'same activity under another webhook id: accepted, known')
  // A job for an activity already replicated (e.g. an operator retry) finds nothing to do.
  await enqueue(app.db, { type: JOB_TYPES.activityReplicate, entityId: event.data.id, serialKey: contactId })
  app.jobs.notify()
  await eventually(async () => {
    const pending = await rows(
      app.db,
      sql`select 1 from jobs where entity_id = ${event.data.id} and state not in ('done', 'dead')`
    )
    return pending.length === 0
  })
  t.equal(activitiesOf(personId).length, 1)
  t.equal(createsSince(from).length, 1)
  t.match(await status(event.data.id), { state: 'synced', syncAttempts: 1 })
})

t.test('an answer lost after the create: still exactly one activity, adopted by look-up', async (t) => {
  const { contactId, personId } = await linkedContact()
  const from = sandbox.requests.length
  sandbox.faults.set({ dropNext: { count: 1, when: 'after', method: 'POST', path: '/api/v2/activities' } })
  const id = await logActivity({ contactId })
  const s = await inState(id, ['synced'])
  t.equal(activitiesOf(personId).length, 1, 'one Pipedrive activity')
  t.equal(createsSince(from).length, 1, 'the create was not sent again')
  t.equal(s.pipedriveActivityId, String(activitiesOf(personId)[0]?.id), 'the activity the lost create made')
  t.equal(s.syncAttempts, 1)
})

t.test('two look-alike activities stay two, even when the second answer is lost', async (t) => {
  const { contactId, personId } = await linkedContact()
  const look = { contactId, subject: 'Follow-up', type: 'CALL', dueAt: '2026-12-01T10:00:00Z' }
  const first = await logActivity(look)
  await inState(first, ['synced'])
  sandbox.faults.set({ dropNext: { count: 1, when: 'after', method: 'POST', path: '/api/v2/activities' } })
  const second = await logActivity(look)
  const s = await inState(second, ['synced'])
  const made = activitiesOf(personId)
  t.equal(made.length, 2, 'two CRM activities, two Pipedrive activities')
  t.not(s.pipedriveActivityId, (await status(first)).pipedriveActivityId, 'not linked to the first one')
  t.equal(s.pipedriveActivityId, String(made[1]?.id))
})

t.test('an answer lost before processing: created once the look-up shows nothing', async (t) => {
  const { contactId, personId } = await linkedContact()
  sandbox.faults.set({ dropNext: { count: 1, when: 'before', method: 'POST', path: '/api/v2/activities' } })
  const id = await logActivity({ contactId })
  const s = await inState(id, ['synced'])
  t.equal(activitiesOf(personId).length, 1)
  t.equal(s.syncAttempts, 2, 'the lost create and the one that worked')
})

t.test('without a person the activity waits; the person releases them in creation order', async (t) => {
  const contact = contactEvent({ warmnessScore: 1 })
  await postWebhook(app, contact)
  const contactId = contact.data.id
  const at = (minute: number) => `2026-11-24T10:0${minute}:00.000Z`
  const from = sandbox.requests.length
  // Arrival order differs from creation order on purpose.
  const late = await logActivity({ contactId, subject: 'third', createdAt: at(3) })
  const early = await logActivity({ contactId, subject: 'first', createdAt: at(1) })
  const middle = await logActivity({ contactId, subject: 'second', createdAt: at(2) })
  for (const id of [late, early, middle]) {
    t.same(await settled(id), { success: true, synced: false, syncAttempts: 0, state: 'waiting_for_person' })
  }

  const personId = await newPerson()
  const later = new Date(Date.now() + 1000).toISOString()
  await postWebhook(app, {
    ...contact,
    data: { ...contact.data, pipedrivePersonId: personId, updatedAt: later }
  })
  for (const id of [late, early, middle]) t.match(await inState(id, ['synced']), { synced: true })
  t.same(
    activitiesOf(personId)
      .sort((a, b) => a.id - b.id)
      .map((a) => a.subject),
    ['first', 'second', 'third'],
    'created in Pipedrive in CRM creation order'
  )
  t.equal(createsSince(from).length, 3, 'one create each, none while waiting')
})

t.test('a cold contact turns warm: its waiting activity appears in Pipedrive', async (t) => {
  const email = `${uid('grace')}@navy.example`
  const contact = contactEvent({ warmnessScore: 2, email, organization: null })
  await postWebhook(app, contact)
  const id = await logActivity({ contactId: contact.data.id, type: 'MEETING', subject: 'Demo' })
  t.match(await settled(id), { state: 'waiting_for_person', synced: false })

  const later = new Date(Date.now() + 1000).toISOString()
  await postWebhook(app, { ...contact, data: { ...contact.data, warmnessScore: 5, updatedAt: later } })
  const s = await inState(id, ['synced'])
  const person = sandbox.store.persons.find((p) => p.emails.some((e) => e.value === email))
  t.ok(person, 'the warm-lead sync made the person')
  t.match(activitiesOf(person?.id ?? -1), [{ subject: 'Demo', type: 'meeting' }])
  t.match(s, { synced: true, state: 'synced', syncAttempts: 1 })
})
