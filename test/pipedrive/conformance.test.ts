/**
 * The conformance suite: the real client, helpers and connection pool against the built-in
 * sandbox over loopback. Every answer passes through the client's schema checks, so a sandbox
 * that drifts from the pinned surface (or a client that does) fails here.
 */
import t from 'tap'
import { activityTypes, chooseActivityType, createActivity } from '../../src/pipedrive/activities.js'
import { getCurrentUser, getPerson, listPersonActivities } from '../../src/pipedrive/api.js'
import { createPipedriveConnection } from '../../src/pipedrive/connection.js'
import {
  PipedriveCreateUnconfirmedError,
  PipedriveError,
  PipedriveNetworkError
} from '../../src/pipedrive/errors.js'
import { createOrganization, findOrganizationByName } from '../../src/pipedrive/organizations.js'
import { personLabelId } from '../../src/pipedrive/person-label.js'
import { addLabelToPerson, createPerson, findPersonByEmail } from '../../src/pipedrive/persons.js'
import { findUserByEmail } from '../../src/pipedrive/users.js'
import { CUSTOM_INDUSTRY_FIELD_CODE } from '../../src/sandbox/company.js'
import { startSandbox } from '../../src/sandbox/server.js'
import { sandboxConnection } from './sandbox-connection.js'

const { sandbox, connection } = await sandboxConnection(t)

/** A fresh account each test: the caches must not leak between sandbox resets. */
const account = (token = sandbox.token) => {
  const pipedrive = connection.forToken(token)
  pipedrive.clearCaches()
  return pipedrive
}
const posts = (path: string) => sandbox.requests.filter((r) => r.method === 'POST' && r.path === path).length

t.test('tokens: /users/me validates each user’s token; bad tokens are 401', async (t) => {
  t.equal((await getCurrentUser(account().client)).email, 'owner@crm.example')
  t.equal((await getCurrentUser(account(sandbox.tokens['sales@crm.example']).client)).id, 1002)
  await t.rejects(getCurrentUser(account('nope').client), { status: 401, message: /answered 401/ })
  await t.rejects(getCurrentUser(account(sandbox.tokens['former@crm.example']).client), {
    status: 401,
    message: /answered 401/
  })
})

t.test('users by email: exact and active only', async (t) => {
  t.equal((await findUserByEmail(account(), 'SALES@crm.example'))?.id, 1002)
  t.equal(await findUserByEmail(account(), 'former@crm.example'), undefined)
  t.equal(await findUserByEmail(account(), 'crm.example'), undefined, 'a partial term matches nobody exactly')
})

t.test('label: the default "Warm lead" is reused', async (t) => {
  t.equal(await personLabelId(account(), 'Warm Lead'), 7)
  t.equal(posts('/api/v2/personFields/label_ids/options'), 0)
})

t.test('label: created once under 20 concurrent callers', async (t) => {
  sandbox.reset({ company: { warmLeadLabel: false } })
  const pipedrive = account()
  const ids = await Promise.all(Array.from({ length: 20 }, () => personLabelId(pipedrive, 'Warm Lead')))
  t.equal(new Set(ids).size, 1)
  t.equal(posts('/api/v2/personFields/label_ids/options'), 1)
  t.same(
    sandbox.store.labelField().options?.map((o) => o.label),
    ['Customer', 'Hot lead', 'Cold lead', 'Warm Lead']
  )
})

t.test('label: v1 fallback keeps every existing option', async (t) => {
  sandbox.reset({ company: { warmLeadLabel: false, labelOptionsViaV2: false } })
  const id = await personLabelId(account(), 'Warm Lead')
  t.same(
    sandbox.store.labelField().options?.map((o) => [o.id, o.label]),
    [
      [5, 'Customer'],
      [6, 'Hot lead'],
      [8, 'Cold lead'],
      [id, 'Warm Lead']
    ]
  )
})

const bodies = (path: string) =>
  sandbox.requests.filter((r) => r.method === 'POST' && r.path === path).map((r) => r.body)
const standardOption = (label: string) =>
  sandbox.store.organizationFields
    .find((field) => field.field_code === 'industry')
    ?.options?.find((option) => option.label === label)?.id

t.test('organizations: create with industry and country, find by exact name', async (t) => {
  const pipedrive = account()
  const acme = await createOrganization(pipedrive, {
    name: 'Acme',
    ownerId: 1001,
    industry: 'software',
    country: 'Germany'
  })
  t.same(acme.warnings, [])
  await createOrganization(pipedrive, { name: 'Acme Corp' })
  t.same(await findOrganizationByName(pipedrive, 'ACME '), { id: acme.id, name: 'Acme' })
  t.equal(await findOrganizationByName(pipedrive, 'Acm'), undefined)
  const stored = sandbox.store.organizations.find((o) => o.id === acme.id)
  t.same(stored?.address, { value: 'Germany', country: 'Germany' })
  t.ok(standardOption('Software'), 'the account has the standard industry field')
  t.same(
    bodies('/api/v2/organizations')[0],
    {
      name: 'Acme',
      industry: standardOption('Software'),
      owner_id: 1001,
      address: { value: 'Germany', country: 'Germany' }
    },
    'the "Software" option id, top level, nothing in custom_fields'
  )
  t.equal(stored?.industry, standardOption('Software'))
})

t.test('organizations: an industry that is not an option is left out with a warning', async (t) => {
  const pipedrive = account()
  const result = await createOrganization(pipedrive, { name: 'Looms', industry: 'Basket weaving' })
  t.match(result.warnings, [
    /industry "Basket weaving" left out: not an option of the Pipedrive industry field/
  ])
  t.same(bodies('/api/v2/organizations'), [{ name: 'Looms' }])
  t.equal(sandbox.store.organizations[0]?.industry, null)
})

t.test('organizations: the industry field is read once and cached', async (t) => {
  const pipedrive = account()
  await Promise.all([
    createOrganization(pipedrive, { name: 'One', industry: 'Retail' }),
    createOrganization(pipedrive, { name: 'Two', industry: 'Finance' })
  ])
  await createOrganization(pipedrive, { name: 'Three', industry: 'Energy' })
  t.equal(sandbox.requests.filter((r) => r.path === '/api/v2/organizationFields').length, 1)
  t.same(
    sandbox.store.organizations.map((o) => o.industry).sort(),
    [standardOption('Retail'), standardOption('Finance'), standardOption('Energy')].sort()
  )
})

t.test('organizations: an older account with only a custom "Industry" field still gets it', async (t) => {
  sandbox.reset({ company: { industryField: 'custom-text' } })
  t.equal(standardOption('Software'), undefined, 'no standard industry field')
  t.same((await createOrganization(account(), { name: 'Text Co', industry: 'Software' })).warnings, [])
  t.same(bodies('/api/v2/organizations'), [
    { name: 'Text Co', custom_fields: { [CUSTOM_INDUSTRY_FIELD_CODE]: 'Software' } }
  ])
  sandbox.reset({ company: { industryField: 'custom-enum' } })
  await createOrganization(account(), { name: 'Enum Co', industry: 'retail' })
  t.same(sandbox.store.organizations[0]?.custom_fields, { [CUSTOM_INDUSTRY_FIELD_CODE]: 33 })
  sandbox.reset({ company: { industryField: 'none' } })
  const result = await createOrganization(account(), { name: 'Plain Co', industry: 'Retail' })
  t.match(result.warnings, [/neither the standard industry field nor a custom field "Industry"/])
  t.same(bodies('/api/v2/organizations'), [{ name: 'Plain Co' }])
})

t.test('persons: create, find by email, read, add a label without losing others', async (t) => {
  const pipedrive = account()
  const org = await createOrganization(pipedrive, { name: 'Acme' })
  const created = await createPerson(pipedrive, {
    name: 'Ada Lovelace',
    email: 'ada@x.example',
    phone: '+1 555',
    ownerId: 1002,
    orgId: org.id,
    labelIds: [5]
  })
  t.equal(created.created, true)
  t.equal((await findPersonByEmail(pipedrive, 'ADA@x.example'))?.id, created.id)
  t.equal(await findPersonByEmail(pipedrive, 'ada@x.exampl'), undefined)
  const warm = await personLabelId(pipedrive, 'Warm Lead')
  t.equal((await addLabelToPerson(pipedrive, created.id, warm)).changed, true)
  t.equal((await addLabelToPerson(pipedrive, created.id, warm)).changed, false)
  const person = await getPerson(pipedrive.client, created.id)
  t.same(person.label_ids, [5, warm])
  t.equal(person.org_id, org.id)
  t.equal(person.owner_id, 1002)
})

t.test('activities: types, create with a primary participant, list', async (t) => {
  const pipedrive = account()
  t.same(
    (await activityTypes(pipedrive)).map((type) => type.key_string),
    ['call', 'meeting', 'task', 'deadline', 'email', 'lunch']
  )
  t.same(await chooseActivityType(pipedrive, 'meeting'), { type: 'meeting' })
  const person = await createPerson(pipedrive, { name: 'Ada', email: 'ada@x.example' })
  const activity = await createActivity(pipedrive, {
    subject: 'Intro',
    type: 'call',
    personId: person.id,
    ownerId: 1001,
    dueDate: '2026-11-24',
    dueTime: '10:00:00',
    duration: '00:30',
    note: 'hello',
    done: false
  })
  const listed = await listPersonActivities(pipedrive.client, person.id)
  t.same(
    listed.map((a) => [a.id, a.due_time, a.participants]),
    [[activity.id, '10:00', [{ person_id: person.id, primary: true }]]]
  )
})

t.test('v2 strictness reaches the caller as a final 400', async (t) => {
  const pipedrive = account()
  const person = await createPerson(pipedrive, { name: 'Ada' })
  await t.rejects(
    createActivity(pipedrive, { subject: 'x', type: 'call', personId: person.id, dueDate: '24.11.2026' }),
    {
      status: 400,
      message: /due_date/
    }
  )
  t.equal(posts('/api/v2/activities'), 1, 'not retried')
})

t.test(
  'a create whose answer is lost is found, not duplicated (person, organization, activity)',
  async (t) => {
    const pipedrive = account()
    sandbox.faults.set({ dropNext: { count: 1, when: 'after', method: 'POST', path: '/api/v2/persons' } })
    const attempts: number[] = []
    const person = await createPerson(
      pipedrive,
      { name: 'Ada', email: 'ada@x.example' },
      { onAttempt: (a) => attempts.push(a.attempt) }
    )
    t.equal(person.created, false)
    t.equal(sandbox.store.persons.length, 1)
    t.same(attempts, [1])

    sandbox.faults.set({
      dropNext: { count: 1, when: 'after', method: 'POST', path: '/api/v2/organizations' }
    })
    t.equal((await createOrganization(pipedrive, { name: 'Acme' })).created, false)
    t.equal(sandbox.store.organizations.length, 1)

    sandbox.faults.set({ dropNext: { count: 1, when: 'after', method: 'POST', path: '/api/v2/activities' } })
    const activity = await createActivity(pipedrive, {
      subject: 'Intro',
      type: 'call',
      personId: person.id,
      dueDate: '2026-11-24'
    })
    t.equal(activity.created, false)
    t.equal(sandbox.store.activities.length, 1)
  }
)

t.test('a dropped person create is not sent again at once; a later call creates it once', async (t) => {
  // A cut connection cannot tell "before processing" from "after": the person may exist.
  sandbox.faults.set({ dropNext: { count: 1, when: 'before', method: 'POST', path: '/api/v2/persons' } })
  await t.rejects(
    createPerson(account(), { name: 'Ada', email: 'ada@x.example' }),
    PipedriveCreateUnconfirmedError
  )
  t.equal(posts('/api/v2/persons'), 1, 'one create sent, then looked for, not sent again')
  t.equal(sandbox.store.persons.length, 0)
  const person = await createPerson(account(), { name: 'Ada', email: 'ada@x.example' })
  t.equal(person.created, true)
  t.equal(sandbox.store.persons.length, 1)
})

t.test('remaining: 0 pauses the token before Pipedrive has to refuse', async (t) => {
  sandbox.reset({
    rateLimit: { general: { limit: 1000, windowMs: 1000 }, search: { limit: 1, windowMs: 1000 } }
  })
  const pipedrive = account()
  await findPersonByEmail(pipedrive, 'a@x.example')
  t.equal(await findPersonByEmail(pipedrive, 'b@x.example'), undefined)
  t.same(
    sandbox.requests.map((r) => r.status),
    [200, 200]
  )
})

t.test('429 (budget used up elsewhere): the client waits retry-after and goes on', async (t) => {
  sandbox.reset({
    rateLimit: { general: { limit: 1000, windowMs: 1000 }, search: { limit: 1, windowMs: 1000 } }
  })
  // Another instance with the same token used the search budget: this process did not see it.
  await fetch(`${sandbox.url}/api/v2/persons/search?term=zz%40x.example&fields=email&exact_match=true`, {
    headers: { 'x-api-token': sandbox.token }
  }).then((response) => response.arrayBuffer())
  t.equal(await findPersonByEmail(account(), 'b@x.example'), undefined)
  t.same(
    sandbox.requests.map((r) => r.status),
    [200, 429, 200]
  )
})

t.test('failures: HTML 403 is rate limiting, 5xx retried, down mode exhausts the retries', async (t) => {
  const pipedrive = account()
  sandbox.faults.set({ failNext: { count: 1, status: 403, html: true, retryAfterSeconds: 0 } })
  t.equal((await getCurrentUser(pipedrive.client)).id, 1001)
  sandbox.faults.set({ failNext: { count: 2, status: 500 } })
  t.equal((await getCurrentUser(pipedrive.client)).id, 1001)
  sandbox.faults.set({ down: true })
  const error = await getCurrentUser(pipedrive.client).catch((e: unknown) => e)
  t.type(error, PipedriveError)
  t.equal((error as PipedriveError).status, 503)
  t.equal(sandbox.requests.filter((r) => r.fault === 'down').length, 4)
})

t.test('a closed sandbox is a refused connection', async (t) => {
  const gone = await startSandbox()
  const url = gone.url
  await gone.close()
  const other = createPipedriveConnection({
    PIPEDRIVE_BASE_URL: url,
    PIPEDRIVE_RATE_LIMIT: 100,
    PIPEDRIVE_RATE_WINDOW_MS: 10_000,
    PIPEDRIVE_SEARCH_RATE_LIMIT: 10,
    PIPEDRIVE_SEARCH_RATE_WINDOW_MS: 2_000,
    SYNC_RETRY_BASE_MS: 1
  })
  const error = await getCurrentUser(other.forToken('x').client).catch((e: unknown) => e)
  t.type(error, PipedriveNetworkError)
  t.equal((error as PipedriveNetworkError).kind, 'refused')
  await other.close()
})
