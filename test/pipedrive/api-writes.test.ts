/**
 * The catalogue's updates and deletes on a mock agent: method, path, body, the answer checked
 * against its schema, and a 404 or 410 (a record deleted) surfaced with its status, not swallowed.
 */
import t from 'tap'
import {
  deleteActivity,
  deletePerson,
  patchActivity,
  patchOrganization,
  patchPerson
} from '../../src/pipedrive/api.js'
import { PipedriveError } from '../../src/pipedrive/errors.js'
import { fail, type MockSetup, mockPipedrive, ok, sentBody } from './mock-pipedrive.js'

interface Case {
  name: string
  method: 'PATCH' | 'DELETE'
  path: string
  endpoint: string
  body: unknown
  answer: Record<string, unknown>
  send: (setup: MockSetup) => Promise<unknown>
}

const organizationBody = { name: 'Acme AG', custom_fields: { abc: null } }
const activityBody = { done: true, participants: [{ person_id: 3, primary: true }] }

const cases: Case[] = [
  {
    name: 'patchOrganization',
    method: 'PATCH',
    path: '/api/v2/organizations/12',
    endpoint: 'organizations.update',
    body: organizationBody,
    answer: { id: 12, name: 'Acme AG', owner_id: 1001, custom_fields: {} },
    send: (setup) => patchOrganization(setup.client, 12, organizationBody)
  },
  {
    name: 'patchActivity',
    method: 'PATCH',
    path: '/api/v2/activities/40',
    endpoint: 'activities.update',
    body: activityBody,
    answer: { id: 40, subject: 'Intro', type: 'call', done: true, participants: activityBody.participants },
    send: (setup) => patchActivity(setup.client, 40, activityBody)
  },
  {
    name: 'deletePerson',
    method: 'DELETE',
    path: '/api/v2/persons/3',
    endpoint: 'persons.delete',
    body: undefined,
    answer: { id: 3 },
    send: (setup) => deletePerson(setup.client, 3)
  },
  {
    name: 'deleteActivity',
    method: 'DELETE',
    path: '/api/v2/activities/40',
    endpoint: 'activities.delete',
    body: undefined,
    answer: { id: 40 },
    send: (setup) => deleteActivity(setup.client, 40)
  }
]

for (const c of cases) {
  t.test(`${c.name}: ${c.method} ${c.path}`, async (t) => {
    const setup = mockPipedrive()
    setup.pool.intercept({ path: c.path, method: c.method }).reply(200, ok(c.answer))
    t.same(await c.send(setup), c.answer)
    t.same(sentBody(setup, 0), c.body)
    const call = setup.agent.getCallHistory()?.calls()[0]
    t.equal(call?.method, c.method)
    t.equal(call?.headers?.['content-type'], c.body === undefined ? undefined : 'application/json')
    t.match(setup.attempts, [{ endpoint: c.endpoint, method: c.method, path: c.path, status: 200 }])
    t.same(setup.budget.acquired, [{ key: setup.client.key, kind: 'general' }])
  })

  for (const status of [404, 410]) {
    t.test(`${c.name}: ${status} surfaces as a PipedriveError with its status, not retried`, async (t) => {
      const setup = mockPipedrive()
      setup.pool.intercept({ path: c.path, method: c.method }).reply(status, fail('not found'))
      const error = await c.send(setup).catch((e: unknown) => e)
      t.type(error, PipedriveError)
      t.match(error, { status, retryable: false, ambiguous: false, method: c.method, path: c.path })
      t.equal(setup.attempts.length, 1)
    })
  }
}

t.test('a delete answer without the id is refused (the schema check)', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v2/persons/3', method: 'DELETE' }).reply(200, ok({}))
  const error = await deletePerson(setup.client, 3).catch((e: unknown) => e)
  t.type(error, PipedriveError)
})

t.test('patchPerson: the labels sent are the whole set', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v2/persons/3', method: 'PATCH' })
    .reply(200, ok({ id: 3, name: 'Ada', label_ids: [5, 7] }))
  t.match(await patchPerson(setup.client, 3, { label_ids: [5, 7] }), { label_ids: [5, 7] })
  t.same(sentBody(setup, 0), { label_ids: [5, 7] })
})
