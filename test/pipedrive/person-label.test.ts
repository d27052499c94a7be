import t from 'tap'
import { PipedriveAccount } from '../../src/pipedrive/account.js'
import { personLabelId } from '../../src/pipedrive/person-label.js'
import { fail, mockPipedrive, ok, sentBody } from './mock-pipedrive.js'

const labels = [
  { id: 5, label: 'Customer', color: 'green' },
  { id: 6, label: 'Hot lead', color: 'red' },
  { id: 8, label: 'Cold lead', color: 'blue' }
]
const fieldsWith = (options: unknown[]) =>
  ok(
    [
      { field_code: 'name', field_name: 'Name', field_type: 'varchar', options: null },
      { field_code: 'label_ids', field_name: 'Labels', field_type: 'set', options }
    ],
    { next_cursor: null }
  )
const FIELDS_PATH = '/api/v2/personFields?limit=100'

t.test('the default "Warm lead" is reused for "Warm Lead" (no create)', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: FIELDS_PATH, method: 'GET' })
    .reply(200, fieldsWith([...labels, { id: 7, label: 'Warm lead', color: 'yellow' }]))
  const account = new PipedriveAccount(setup.client)
  t.equal(await personLabelId(account, 'Warm Lead'), 7)
  t.equal(await personLabelId(account, 'warm lead'), 7, 'cached: no second call')
  t.equal(setup.attempts.length, 1)
})

t.test('created once under 20 concurrent callers', async (t) => {
  const setup = mockPipedrive()
  // Read, then read again under the label's lease before creating.
  setup.pool.intercept({ path: FIELDS_PATH, method: 'GET' }).reply(200, fieldsWith(labels)).times(2)
  setup.pool
    .intercept({
      path: '/api/v2/personFields/label_ids/options',
      method: 'POST',
      body: JSON.stringify([{ label: 'Warm Lead' }])
    })
    .reply(200, ok([{ id: 42, label: 'Warm Lead' }]))
  const account = new PipedriveAccount(setup.client)
  const ids = await Promise.all(Array.from({ length: 20 }, () => personLabelId(account, 'Warm Lead')))
  t.same(new Set(ids), new Set([42]))
  t.same(
    setup.attempts.map((a) => a.endpoint),
    ['personFields.list', 'personFields.list', 'personFields.addOptions']
  )
  setup.agent.assertNoPendingInterceptors()
})

t.test('v2 refused: the v1 update keeps every existing option', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: FIELDS_PATH, method: 'GET' }).reply(200, fieldsWith(labels)).times(2)
  setup.pool
    .intercept({ path: '/api/v2/personFields/label_ids/options', method: 'POST' })
    .reply(400, fail('Options of this system field cannot be changed'))
  setup.pool.intercept({ path: '/api/v1/personFields', method: 'GET' }).reply(
    200,
    ok([
      { id: 9040, key: 'name', name: 'Name', field_type: 'varchar', options: null },
      { id: 9051, key: 'label_ids', name: 'Labels', field_type: 'set', options: labels }
    ])
  )
  const expected = { options: [...labels, { label: 'Warm Lead' }] }
  setup.pool
    .intercept({ path: '/api/v1/personFields/9051', method: 'PUT', body: JSON.stringify(expected) })
    .reply(
      200,
      ok({
        id: 9051,
        key: 'label_ids',
        name: 'Labels',
        field_type: 'set',
        options: [...labels, { id: 77, label: 'Warm Lead' }]
      })
    )
  const account = new PipedriveAccount(setup.client)
  t.equal(await personLabelId(account, 'Warm Lead'), 77)
  t.same(sentBody(setup, 4), expected, 'every existing option with its id, then the new one')
  setup.agent.assertNoPendingInterceptors()
})

t.test('a failed look-up is not cached: the next caller tries again', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: FIELDS_PATH, method: 'GET' }).reply(401, fail('unauthorized access'))
  setup.pool
    .intercept({ path: FIELDS_PATH, method: 'GET' })
    .reply(200, fieldsWith([...labels, { id: 7, label: 'Warm lead' }]))
  const account = new PipedriveAccount(setup.client)
  await t.rejects(personLabelId(account, 'Warm Lead'), { status: 401, message: /answered 401/ })
  t.equal(await personLabelId(account, 'Warm Lead'), 7)
})

t.test('an ambiguous option create looks before creating again', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: FIELDS_PATH, method: 'GET' }).reply(200, fieldsWith(labels)).times(2)
  setup.pool
    .intercept({ path: '/api/v2/personFields/label_ids/options', method: 'POST' })
    .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
  setup.pool
    .intercept({ path: FIELDS_PATH, method: 'GET' })
    .reply(200, fieldsWith([...labels, { id: 43, label: 'Warm Lead' }]))
  const account = new PipedriveAccount(setup.client)
  t.equal(await personLabelId(account, 'Warm Lead'), 43)
  t.equal(setup.attempts.filter((a) => a.endpoint === 'personFields.addOptions').length, 1)
})
