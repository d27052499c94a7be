/**
 * The sandbox's updates and deletes (docs/pipedrive.md): PATCH changes only the fields sent,
 * arrays replace, custom fields merge per key; a deleted record leaves every list and look-up.
 */
import nock from 'nock'
import t from 'tap'
import { CUSTOM_INDUSTRY_FIELD_CODE } from '../../src/sandbox/company.js'
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js'
import type { SandboxField } from '../../src/sandbox/store.js'
import { callSandbox } from './sandbox-call.js'

nock.disableNetConnect()
nock.enableNetConnect('127.0.0.1')

let sandbox: Sandbox
t.before(async () => {
  sandbox = await startSandbox()
})
t.beforeEach(() => sandbox.reset())
t.teardown(() => sandbox.close())

const call = (method: string, path: string, body?: unknown, token: string | null = sandbox.token) =>
  callSandbox(sandbox, method, path, body, token)

type Data = Record<string, unknown> & { id: number }
const data = (answer: { json: Record<string, unknown> }) => answer.json.data as Data
const create = async (path: string, body: unknown) => data(await call('POST', path, body))

/** Two custom person fields (the default company has none): 40-character codes, as Pipedrive's. */
const TEXT = 'a'.repeat(40)
const NOTE = 'b'.repeat(40)
function addPersonCustomFields() {
  const custom = (id: number, code: string): SandboxField => ({
    id,
    key: code,
    name: `Custom ${id}`,
    field_type: 'varchar',
    options: null,
    field_code: code,
    field_name: `Custom ${id}`
  })
  sandbox.store.personFields.push(custom(9101, TEXT), custom(9102, NOTE))
}

const ada = {
  name: 'Ada Lovelace',
  emails: [{ value: 'ada@example.com', primary: true, label: 'work' }],
  phones: [{ value: '+44 1', primary: true, label: 'work' }],
  label_ids: [5, 6]
}

t.test('PATCH person: only the fields sent change; the answer is the whole person', async (t) => {
  const person = await create('/api/v2/persons', ada)
  const patched = await call('PATCH', `/api/v2/persons/${person.id}`, { name: 'Ada King' })
  t.equal(patched.status, 200)
  t.match(patched.json, {
    success: true,
    data: { id: person.id, name: 'Ada King', emails: ada.emails, phones: ada.phones, label_ids: [5, 6] }
  })
  t.match(data(await call('GET', `/api/v2/persons/${person.id}`)), { name: 'Ada King', owner_id: 1001 })
  const empty = await call('PATCH', `/api/v2/persons/${person.id}`, {})
  t.equal(empty.status, 200, 'an empty body changes nothing')
  t.match(data(empty), { name: 'Ada King', emails: ada.emails, label_ids: [5, 6] })
})

t.test('PATCH person: emails, phones and label_ids sent replace the stored ones', async (t) => {
  const person = await create('/api/v2/persons', ada)
  const emails = [{ value: 'ada@new.example', primary: true, label: 'home' }]
  await call('PATCH', `/api/v2/persons/${person.id}`, { emails, phones: [], label_ids: [7] })
  t.match(sandbox.store.persons[0], { emails, phones: [], label_ids: [7] })
  t.same(sandbox.store.persons[0]?.emails, emails, 'not appended')
  const found = await call('GET', '/api/v2/persons/search?term=ada@example.com&fields=email&exact_match=true')
  t.same((found.json.data as { items: unknown[] }).items, [], 'the old address no longer finds the person')
})

t.test('PATCH person: custom_fields merge per key, null clears a key', async (t) => {
  addPersonCustomFields()
  const person = await create('/api/v2/persons', { name: 'A', custom_fields: { [TEXT]: 'one', [NOTE]: 'n' } })
  await call('PATCH', `/api/v2/persons/${person.id}`, { custom_fields: { [TEXT]: 'two' } })
  t.same(sandbox.store.persons[0]?.custom_fields, { [TEXT]: 'two', [NOTE]: 'n' }, 'the key not sent is kept')
  const cleared = await call('PATCH', `/api/v2/persons/${person.id}`, { custom_fields: { [NOTE]: null } })
  t.equal(cleared.status, 200)
  t.same(data(cleared).custom_fields, { [TEXT]: 'two' })
  t.equal(
    (await call('POST', '/api/v2/persons', { name: 'B', custom_fields: { [NOTE]: null } })).status,
    400,
    'null clears in an update only'
  )
})

t.test('PATCH person: unknown references and fields are 400s, as on create', async (t) => {
  const person = await create('/api/v2/persons', ada)
  const cases: Array<[unknown, RegExp]> = [
    [{ owner_id: 4242 }, /owner_id: user 4242 not found/],
    [{ owner_id: 1003 }, /owner_id: user 1003 not found/],
    [{ org_id: 77 }, /org_id: organization 77 not found/],
    [{ label_ids: [5, 99] }, /label 99/],
    [{ custom_fields: { [TEXT]: 'x' } }, /not a custom field of this account/],
    [{ nickname: 'A' }, /Validation failed/],
    [{ name: '' }, /name/],
    [{ emails: ['a@b.c'] }, /emails/]
  ]
  for (const [body, message] of cases) {
    const answer = await call('PATCH', `/api/v2/persons/${person.id}`, body)
    t.equal(answer.status, 400, JSON.stringify(body))
    t.match(answer.json, { success: false, error: message, data: null })
  }
  t.match(sandbox.store.persons[0], ada, 'nothing changed')
  t.equal((await call('PATCH', '/api/v2/persons/999', { name: 'X' })).status, 404)
})

t.test('PATCH organization: only the fields sent change, custom fields merge', async (t) => {
  sandbox.reset({ company: { industryField: 'custom-text' } })
  const organization = await create('/api/v2/organizations', {
    name: 'Acme',
    address: { value: 'Berlin' },
    custom_fields: { [CUSTOM_INDUSTRY_FIELD_CODE]: 'Retail' }
  })
  const patched = await call('PATCH', `/api/v2/organizations/${organization.id}`, { name: 'Acme AG' })
  t.equal(patched.status, 200)
  t.match(data(patched), {
    name: 'Acme AG',
    address: { value: 'Berlin' },
    owner_id: 1001,
    custom_fields: { [CUSTOM_INDUSTRY_FIELD_CODE]: 'Retail' }
  })
  const cleared = await call('PATCH', `/api/v2/organizations/${organization.id}`, {
    custom_fields: { [CUSTOM_INDUSTRY_FIELD_CODE]: null }
  })
  t.same(data(cleared).custom_fields, {})
  const found = await call('GET', '/api/v2/organizations/search?term=acme%20ag&fields=name&exact_match=true')
  t.match(found.json.data, { items: [{ item: { id: organization.id, name: 'Acme AG' } }] })
})

t.test('PATCH organization: unknown references and fields are 400s', async (t) => {
  const organization = await create('/api/v2/organizations', { name: 'Acme' })
  const cases: Array<[unknown, RegExp]> = [
    [{ owner_id: 4242 }, /owner_id/],
    [{ industry: 4242 }, /industry: option 4242 not found/],
    [{ custom_fields: { industry: 7 } }, /not a custom field/],
    [{ website: 'acme.example' }, /Validation failed/]
  ]
  for (const [body, message] of cases) {
    const answer = await call('PATCH', `/api/v2/organizations/${organization.id}`, body)
    t.equal(answer.status, 400, JSON.stringify(body))
    t.match(answer.json, { success: false, error: message })
  }
  t.equal((await call('PATCH', '/api/v2/organizations/999', { name: 'X' })).status, 404)
})

t.test('PATCH activity: only the fields sent change; participants replace, and so the person', async (t) => {
  const ann = await create('/api/v2/persons', { name: 'Ada' })
  const bob = await create('/api/v2/persons', { name: 'Bob' })
  const activity = await create('/api/v2/activities', {
    subject: 'Intro',
    type: 'call',
    due_date: '2026-12-01',
    note: 'first',
    participants: [{ person_id: ann.id, primary: true }]
  })
  const done = await call('PATCH', `/api/v2/activities/${activity.id}`, { done: true })
  t.equal(done.status, 200)
  t.match(data(done), { subject: 'Intro', type: 'call', due_date: '2026-12-01', note: 'first', done: true })
  const moved = await call('PATCH', `/api/v2/activities/${activity.id}`, {
    participants: [{ person_id: bob.id, primary: true }]
  })
  t.match(data(moved), { person_id: bob.id, participants: [{ person_id: bob.id, primary: true }] })
  t.same(data(moved).participants, [{ person_id: bob.id, primary: true }])
  const list = (id: number) => call('GET', `/api/v2/activities?person_id=${id}`)
  t.same((await list(ann.id)).json.data, [])
  t.match((await list(bob.id)).json.data, [{ id: activity.id }])
  const cases: Array<[unknown, RegExp]> = [
    [{ type: 'nope' }, /type: activity type "nope" not found/],
    [{ owner_id: 4242 }, /owner_id/],
    [{ participants: [{ person_id: 999, primary: true }] }, /participants: person 999 not found/],
    [{ participants: [] }, /Validation failed/],
    [{ org_id: 77 }, /org_id: organization 77 not found/],
    [{ person_id: ann.id }, /Validation failed/],
    [{ due_time: '25:00' }, /due_time/]
  ]
  for (const [body, message] of cases) {
    const answer = await call('PATCH', `/api/v2/activities/${activity.id}`, body)
    t.equal(answer.status, 400, JSON.stringify(body))
    t.match(answer.json, { success: false, error: message })
  }
  t.equal((await call('PATCH', '/api/v2/activities/999', { done: true })).status, 404)
})

t.test('DELETE person: { id }, then 404 to GET, PATCH and DELETE, gone from search', async (t) => {
  const person = await create('/api/v2/persons', ada)
  const other = await create('/api/v2/persons', { ...ada, name: 'Ada Twin' })
  const deleted = await call('DELETE', `/api/v2/persons/${person.id}`)
  t.equal(deleted.status, 200)
  t.same(deleted.json, { success: true, data: { id: person.id } })
  t.equal((await call('GET', `/api/v2/persons/${person.id}`)).status, 404)
  t.equal((await call('PATCH', `/api/v2/persons/${person.id}`, { name: 'X' })).status, 404)
  t.match(await call('DELETE', `/api/v2/persons/${person.id}`), {
    status: 404,
    json: { success: false, error: 'Person not found' }
  })
  const found = await call('GET', '/api/v2/persons/search?term=ada@example.com&fields=email&exact_match=true')
  t.match(found.json.data, { items: [{ item: { id: other.id } }] })
  t.equal((found.json.data as { items: unknown[] }).items.length, 1)
  t.equal(
    (
      await call('POST', '/api/v2/activities', {
        subject: 's',
        type: 'call',
        participants: [{ person_id: person.id, primary: true }]
      })
    ).status,
    400,
    'a deleted person is an unknown reference'
  )
  t.match(sandbox.store.deleted.persons, [{ id: person.id }], 'kept aside, as Pipedrive deletes softly')
  t.equal((await call('DELETE', '/api/v2/persons/abc')).status, 400)
})

t.test('DELETE activity: gone from the person’s list, 404 afterwards', async (t) => {
  const person = await create('/api/v2/persons', { name: 'Ada' })
  const activity = (subject: string) =>
    create('/api/v2/activities', {
      subject,
      type: 'call',
      participants: [{ person_id: person.id, primary: true }]
    })
  const first = await activity('one')
  const second = await activity('two')
  t.same((await call('DELETE', `/api/v2/activities/${first.id}`)).json, {
    success: true,
    data: { id: first.id }
  })
  const list = await call('GET', `/api/v2/activities?person_id=${person.id}`)
  t.same(
    (list.json.data as Data[]).map((item) => item.id),
    [second.id]
  )
  t.equal((await call('PATCH', `/api/v2/activities/${first.id}`, { done: true })).status, 404)
  t.equal((await call('DELETE', `/api/v2/activities/${first.id}`)).status, 404)
})

t.test('DELETE organization: gone from search, an unknown reference afterwards', async (t) => {
  const organization = await create('/api/v2/organizations', { name: 'Acme' })
  t.same((await call('DELETE', `/api/v2/organizations/${organization.id}`)).json, {
    success: true,
    data: { id: organization.id }
  })
  const found = await call('GET', '/api/v2/organizations/search?term=acme&fields=name&exact_match=true')
  t.same((found.json.data as { items: unknown[] }).items, [])
  t.equal((await call('PATCH', `/api/v2/organizations/${organization.id}`, { name: 'X' })).status, 404)
  t.equal((await call('DELETE', `/api/v2/organizations/${organization.id}`)).status, 404)
  t.equal((await call('POST', '/api/v2/persons', { name: 'A', org_id: organization.id })).status, 400)
})

t.test('PATCH and DELETE pass the same gate: token, rate window, faults, request log', async (t) => {
  const person = await create('/api/v2/persons', { name: 'Ada' })
  t.equal((await call('PATCH', `/api/v2/persons/${person.id}`, { name: 'X' }, null)).status, 401)
  t.equal((await call('DELETE', `/api/v2/persons/${person.id}`, undefined, 'bad')).status, 401)
  sandbox.reset({
    rateLimit: { general: { limit: 3, windowMs: 60_000 }, search: { limit: 1, windowMs: 60_000 } }
  })
  const again = await create('/api/v2/persons', { name: 'Ada' })
  const patched = await call('PATCH', `/api/v2/persons/${again.id}`, { name: 'B' })
  t.equal(patched.headers.get('x-ratelimit-remaining'), '1', 'the PATCH counted')
  t.equal((await call('DELETE', `/api/v2/persons/${again.id}`)).headers.get('x-ratelimit-remaining'), '0')
  const refused = await call('PATCH', `/api/v2/persons/${again.id}`, { name: 'C' })
  t.equal(refused.status, 429, 'the DELETE counted')
  t.equal(refused.headers.get('retry-after'), '60')

  sandbox.reset()
  const target = await create('/api/v2/persons', { name: 'Ada' })
  const path = `/api/v2/persons/${target.id}`
  sandbox.faults.set({ failNext: { count: 1, status: 503, method: 'DELETE', path } })
  t.equal((await call('PATCH', path, { name: 'B' })).status, 200, 'other methods unaffected')
  t.equal((await call('DELETE', path)).status, 503)
  t.equal(sandbox.store.persons.length, 1, 'a failed DELETE deletes nothing')
  sandbox.faults.set({ dropNext: { count: 1, when: 'after', method: 'DELETE' } })
  await t.rejects(call('DELETE', path), 'the answer is lost')
  t.equal(sandbox.store.persons.length, 0, 'the delete happened')
  t.equal((await call('DELETE', path)).status, 404, 'sent again: 404, the caller must take it as done')
  t.same(
    sandbox.requests.map((request) => [request.method, request.status, request.fault ?? null]),
    [
      ['POST', 200, null],
      ['PATCH', 200, null],
      ['DELETE', 503, 'failed'],
      ['DELETE', null, 'dropped-after'],
      ['DELETE', 404, null]
    ]
  )
  t.match(sandbox.requests[1], { path, userId: 1001, body: { name: 'B' } })
})
