import t from 'tap'
import { PipedriveAccount } from '../../src/pipedrive/account.js'
import { chooseActivityType, createActivity } from '../../src/pipedrive/activities.js'
import { listPersonActivities } from '../../src/pipedrive/api.js'
import type { AttemptInfo } from '../../src/pipedrive/client.js'
import { PipedriveAmbiguousCreateError, PipedriveCreateUnconfirmedError } from '../../src/pipedrive/errors.js'
import { createOrganization, findOrganizationByName } from '../../src/pipedrive/organizations.js'
import { addLabelToPerson, createPerson, findPersonByEmail } from '../../src/pipedrive/persons.js'
import { findUserByEmail } from '../../src/pipedrive/users.js'
import { fail, mockPipedrive, ok, sentBody } from './mock-pipedrive.js'

const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })

t.test('user by email: exact address, active only', async (t) => {
  const setup = mockPipedrive()
  const users = [
    { id: 1, name: 'A', email: 'sales@crm.example.org', active_flag: true },
    { id: 2, name: 'B', email: 'Sales@CRM.example', active_flag: false },
    { id: 3, name: 'C', email: 'sales@crm.example', active_flag: true }
  ]
  setup.pool
    .intercept({ path: '/api/v1/users/find?term=sales%40crm.example&search_by_email=1', method: 'GET' })
    .reply(200, ok(users))
  setup.pool
    .intercept({ path: '/api/v1/users/find?term=former%40crm.example&search_by_email=1', method: 'GET' })
    .reply(200, ok([{ id: 4, name: 'F', email: 'former@crm.example', active_flag: false }]))
  const account = new PipedriveAccount(setup.client)
  t.equal((await findUserByEmail(account, ' sales@crm.example '))?.id, 3)
  t.equal(await findUserByEmail(account, 'former@crm.example'), undefined)
})

t.test('organization by name: near matches are re-checked', async (t) => {
  const setup = mockPipedrive()
  const items = [
    { result_score: 0.9, item: { id: 1, name: 'Acme Corp', owner: { id: 1001 } } },
    { result_score: 0.8, item: { id: 2, name: 'ACME ', owner: { id: 1001 } } }
  ]
  setup.pool
    .intercept({ path: '/api/v2/organizations/search?term=Acme&fields=name&exact_match=true', method: 'GET' })
    .reply(200, ok({ items }))
  setup.pool
    .intercept({ path: '/api/v2/organizations/search?term=Acm&fields=name&exact_match=true', method: 'GET' })
    .reply(200, ok({ items }))
  const account = new PipedriveAccount(setup.client)
  t.same(await findOrganizationByName(account, ' Acme'), { id: 2, name: 'ACME ' })
  t.equal(await findOrganizationByName(account, 'Acm'), undefined)
})

/** The account's organization fields: the standard industry enum, a custom "Industry", or neither. */
const organizationFields = (industry: 'standard' | 'custom-text' | 'custom-enum' | 'none') =>
  ok(
    [
      {
        field_code: 'name',
        field_name: 'Name',
        field_type: 'varchar',
        is_custom_field: false,
        options: null
      },
      // A field whose option ids are strings (as Pipedrive's model allows) must not break the list.
      {
        field_code: 'visible_to',
        field_name: 'Visible to',
        field_type: 'visible_to',
        is_custom_field: false,
        options: [{ id: '3', label: 'Everyone' }]
      },
      ...(industry === 'standard'
        ? [
            {
              field_code: 'industry',
              field_name: 'Industry',
              field_type: 'enum',
              is_custom_field: false,
              options: [
                { id: 7, label: 'Retail' },
                { id: 9, label: 'Software' }
              ]
            }
          ]
        : []),
      ...(industry.startsWith('custom-')
        ? [
            {
              field_code: 'abc123',
              field_name: 'Industry',
              field_type: industry === 'custom-enum' ? 'enum' : 'varchar',
              is_custom_field: true,
              options: industry === 'custom-enum' ? [{ id: 31, label: 'Software' }] : null
            }
          ]
        : [])
    ],
    { next_cursor: null }
  )

/** Expects one organization create with exactly this body. */
function expectCreate(setup: ReturnType<typeof mockPipedrive>, body: Record<string, unknown>) {
  setup.pool
    .intercept({ path: '/api/v2/organizations', method: 'POST', body: JSON.stringify(body) })
    .reply(200, ok({ id: 9, name: String(body.name) }))
}
const fieldsAnswer = (
  setup: ReturnType<typeof mockPipedrive>,
  industry: Parameters<typeof organizationFields>[0]
) =>
  setup.pool
    .intercept({ path: '/api/v2/organizationFields?limit=100', method: 'GET' })
    .reply(200, organizationFields(industry))

t.test('create organization: country in the address, industry as the standard field option', async (t) => {
  const setup = mockPipedrive()
  fieldsAnswer(setup, 'standard')
  expectCreate(setup, {
    name: 'Acme',
    industry: 9,
    owner_id: 1001,
    address: { value: 'Germany', country: 'Germany' }
  })
  const account = new PipedriveAccount(setup.client)
  const result = await createOrganization(account, {
    name: 'Acme',
    ownerId: 1001,
    industry: 'SOFTWARE',
    country: 'Germany'
  })
  t.same(result, { id: 9, name: 'Acme', created: true, warnings: [] })
  setup.agent.assertNoPendingInterceptors()
})

t.test('create organization: an industry that is not a standard option is left out', async (t) => {
  const setup = mockPipedrive()
  fieldsAnswer(setup, 'standard')
  expectCreate(setup, { name: 'Acme' })
  const account = new PipedriveAccount(setup.client)
  const result = await createOrganization(account, { name: 'Acme', industry: 'Computing' })
  t.same(result.warnings, ['industry "Computing" left out: not an option of the Pipedrive industry field'])
  setup.agent.assertNoPendingInterceptors()
})

t.test('create organization: an older account’s custom "Industry" field (text or enum)', async (t) => {
  const text = mockPipedrive()
  fieldsAnswer(text, 'custom-text')
  expectCreate(text, { name: 'Acme', custom_fields: { abc123: 'Software' } })
  t.same(
    (await createOrganization(new PipedriveAccount(text.client), { name: 'Acme', industry: 'Software' }))
      .warnings,
    []
  )
  text.agent.assertNoPendingInterceptors()
  const enumField = mockPipedrive()
  fieldsAnswer(enumField, 'custom-enum')
  expectCreate(enumField, { name: 'Acme', custom_fields: { abc123: 31 } })
  t.same(
    (await createOrganization(new PipedriveAccount(enumField.client), { name: 'Acme', industry: 'software' }))
      .warnings,
    []
  )
  enumField.agent.assertNoPendingInterceptors()
})

t.test('create organization: neither field → left out with a warning', async (t) => {
  const setup = mockPipedrive()
  fieldsAnswer(setup, 'none')
  expectCreate(setup, { name: 'Acme' })
  const account = new PipedriveAccount(setup.client)
  const result = await createOrganization(account, { name: 'Acme', industry: 'Software' })
  t.match(result.warnings, [/neither the standard industry field nor a custom field "Industry"/])
  setup.agent.assertNoPendingInterceptors()
})

t.test('create organization: a lost answer is followed by a look-up, not a second create', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v2/organizations', method: 'POST' }).replyWithError(reset())
  setup.pool
    .intercept({ path: '/api/v2/organizations/search?term=Acme&fields=name&exact_match=true', method: 'GET' })
    .reply(200, ok({ items: [{ result_score: 1, item: { id: 9, name: 'Acme' } }] }))
  const account = new PipedriveAccount(setup.client)
  const creates: AttemptInfo[] = []
  const result = await createOrganization(account, { name: 'Acme' }, { onAttempt: (a) => creates.push(a) })
  t.same(result, { id: 9, name: 'Acme', created: false, warnings: [] })
  t.equal(creates.length, 1)
  setup.agent.assertNoPendingInterceptors()
})

t.test('person by email: re-checked, emails are plain strings in search results', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v2/persons/search?term=ada%40x.y&fields=email&exact_match=true', method: 'GET' })
    .reply(
      200,
      ok({
        items: [
          {
            result_score: 0.5,
            item: { id: 1, name: 'Near', emails: ['ada@x.y.z'], organization: null, owner: { id: 1001 } }
          },
          {
            result_score: 1,
            item: {
              id: 2,
              name: 'Ada',
              emails: ['other@x.y', 'ADA@x.y'],
              organization: { id: 9 },
              owner: { id: 1001 }
            }
          }
        ]
      })
    )
  const account = new PipedriveAccount(setup.client)
  t.equal((await findPersonByEmail(account, 'ada@x.y'))?.id, 2)
})

t.test('create person: exact body; refused connections are retried and counted', async (t) => {
  const setup = mockPipedrive()
  const body = {
    name: 'Ada',
    emails: [{ value: 'ada@x.y', primary: true, label: 'work' }],
    phones: [{ value: '+49 1', primary: true, label: 'work' }],
    owner_id: 1001,
    org_id: 9,
    label_ids: [7]
  }
  setup.pool.intercept({ path: '/api/v2/persons', method: 'POST' }).replyWithError(refused())
  setup.pool
    .intercept({ path: '/api/v2/persons', method: 'POST', body: JSON.stringify(body) })
    .reply(200, ok({ id: 5, name: 'Ada' }))
  const account = new PipedriveAccount(setup.client)
  const creates: AttemptInfo[] = []
  const result = await createPerson(
    account,
    { name: 'Ada', email: 'ada@x.y', phone: '+49 1', ownerId: 1001, orgId: 9, labelIds: [7, 7] },
    { onAttempt: (a) => creates.push(a) }
  )
  t.same(result, { id: 5, name: 'Ada', created: true })
  t.equal(creates.length, 2, 'the refused call counts as an attempt')
  t.same(sentBody(setup, 1), body)
})

t.test('create person: ambiguous failure, look-up finds nothing: not sent again at once', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v2/persons', method: 'POST' }).reply(502, 'Bad Gateway')
  setup.pool
    .intercept({ path: '/api/v2/persons/search?term=ada%40x.y&fields=email&exact_match=true', method: 'GET' })
    .reply(200, ok({ items: [] }))
  const account = new PipedriveAccount(setup.client)
  // A person just made may not be searchable yet: a later round looks again before creating.
  const error = await createPerson(account, { name: 'Ada', email: 'ada@x.y' }).catch((e: unknown) => e)
  t.type(error, PipedriveCreateUnconfirmedError)
  t.match((error as Error).message, /answered 502/, 'says what left the outcome unknown')
  t.same(
    setup.attempts.map((a) => a.endpoint),
    ['persons.create', 'persons.search']
  )
  setup.agent.assertNoPendingInterceptors()
})

t.test('create person: mayExist looks first (an earlier round may have created it)', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v2/persons/search?term=ada%40x.y&fields=email&exact_match=true', method: 'GET' })
    .reply(200, ok({ items: [{ item: { id: 5, name: 'Ada', emails: ['ada@x.y'] } }] }))
  const account = new PipedriveAccount(setup.client)
  t.same(await createPerson(account, { name: 'Ada', email: 'ada@x.y' }, { mayExist: true }), {
    id: 5,
    name: 'Ada',
    created: false
  })
})

t.test('create person without email: an ambiguous failure is not sent again', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v2/persons', method: 'POST' }).replyWithError(reset())
  const account = new PipedriveAccount(setup.client)
  const error = await createPerson(account, { name: 'Nameless' }).catch((e: unknown) => e)
  t.type(error, PipedriveAmbiguousCreateError)
  t.equal(setup.attempts.length, 1)
})

t.test('create person: a 4xx is final and names what Pipedrive said', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v2/persons', method: 'POST' })
    .reply(400, fail('owner_id: user 1 not found'))
  const account = new PipedriveAccount(setup.client)
  await t.rejects(createPerson(account, { name: 'Ada', ownerId: 1 }), {
    status: 400,
    message: /owner_id: user 1 not found/
  })
  t.equal(setup.attempts.length, 1)
})

t.test('add label merges with the existing labels; nothing sent when already there', async (t) => {
  const setup = mockPipedrive()
  const person = { id: 5, name: 'Ada', label_ids: [5], emails: [], phones: [] }
  setup.pool.intercept({ path: '/api/v2/persons/5', method: 'GET' }).reply(200, ok(person))
  setup.pool
    .intercept({ path: '/api/v2/persons/5', method: 'PATCH', body: JSON.stringify({ label_ids: [5, 7] }) })
    .reply(200, ok({ ...person, label_ids: [5, 7] }))
  setup.pool
    .intercept({ path: '/api/v2/persons/5', method: 'GET' })
    .reply(200, ok({ ...person, label_ids: [5, 7] }))
  const account = new PipedriveAccount(setup.client)
  t.equal((await addLabelToPerson(account, 5, 7)).changed, true)
  t.equal((await addLabelToPerson(account, 5, 7)).changed, false)
  setup.agent.assertNoPendingInterceptors()
})

const types = ok([
  { id: 1, name: 'Call', key_string: 'call', active_flag: true },
  { id: 2, name: 'Task', key_string: 'task', active_flag: true },
  { id: 3, name: 'Lunch', key_string: 'lunch', active_flag: false }
])

t.test('activity types are cached; a missing or inactive type falls back to task', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v1/activityTypes', method: 'GET' }).reply(200, types)
  const account = new PipedriveAccount(setup.client)
  t.same(await chooseActivityType(account, 'call'), { type: 'call' })
  t.match(await chooseActivityType(account, 'lunch'), { type: 'task', warning: /lunch/ })
  t.match(await chooseActivityType(account, 'meeting'), { type: 'task' })
  t.equal(setup.attempts.length, 1)
})

t.test('activity types unreadable: the mapped type is used (best effort)', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v1/activityTypes', method: 'GET' }).reply(403, fail('forbidden'))
  const account = new PipedriveAccount(setup.client)
  t.same(await chooseActivityType(account, 'meeting'), { type: 'meeting' })
})

t.test(
  'create activity: primary participant, HH:MM; lost answer found among the person’s activities',
  async (t) => {
    const setup = mockPipedrive()
    const body = {
      subject: 'Intro call',
      type: 'call',
      participants: [{ person_id: 5, primary: true }],
      owner_id: 1001,
      due_date: '2026-11-24',
      due_time: '10:00',
      duration: '00:30',
      note: '<b>hi</b>',
      done: false
    }
    setup.pool
      .intercept({ path: '/api/v2/activities', method: 'POST', body: JSON.stringify(body) })
      .replyWithError(reset())
    setup.pool.intercept({ path: '/api/v2/activities?person_id=5&limit=100', method: 'GET' }).reply(
      200,
      ok(
        [
          { id: 70, subject: 'Intro call', type: 'call', due_date: '2026-11-25' },
          { id: 71, subject: 'Intro call', type: 'call', due_date: '2026-11-24', due_time: '10:00' }
        ],
        { next_cursor: null }
      )
    )
    const account = new PipedriveAccount(setup.client)
    const creates: AttemptInfo[] = []
    const result = await createActivity(
      account,
      {
        subject: 'Intro call',
        type: 'call',
        personId: 5,
        ownerId: 1001,
        dueDate: '2026-11-24',
        dueTime: '10:00:00',
        duration: '00:30',
        note: '<b>hi</b>',
        done: false
      },
      { onAttempt: (a) => creates.push(a) }
    )
    t.same(result, { id: 71, created: false })
    t.equal(creates.length, 1)
  }
)

t.test('list a person’s activities follows the cursor', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v2/activities?person_id=5&limit=100', method: 'GET' })
    .reply(200, ok([{ id: 1, subject: 'a', type: 'call' }], { next_cursor: 'c2' }))
  setup.pool
    .intercept({ path: '/api/v2/activities?person_id=5&limit=100&cursor=c2', method: 'GET' })
    .reply(200, ok([{ id: 2, subject: 'b', type: 'call' }], { next_cursor: null }))
  const account = new PipedriveAccount(setup.client)
  t.same(
    (await listPersonActivities(account.client, 5)).map((a) => a.id),
    [1, 2]
  )
})
