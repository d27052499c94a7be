import nock from 'nock'
import t from 'tap'
import { CUSTOM_INDUSTRY_FIELD_CODE } from '../../src/sandbox/company.js'
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js'
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

t.test('authentication: x-api-token only, inactive users refused', async (t) => {
  t.equal((await call('GET', '/api/v1/users/me', undefined, null)).status, 401)
  t.equal((await call('GET', '/api/v1/users/me', undefined, 'bad')).status, 401)
  t.equal(
    (await call('GET', '/api/v1/users/me', undefined, sandbox.tokens['former@crm.example'] ?? '')).status,
    401
  )
  const me = await call('GET', '/api/v1/users/me')
  t.match(me.json, { success: true, data: { id: 1001, email: 'owner@crm.example', is_admin: true } })
  t.match((await call('GET', `/api/v1/users/me?api_token=${sandbox.token}`, undefined, null)).json, {
    success: false,
    error: 'unauthorized access'
  })
})

t.test('v2 validation is strict: wrong types and unknown fields are 400 naming the field', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['/api/v2/persons', { name: 'A', owner_id: '1001' }, /owner_id/],
    ['/api/v2/persons', { name: 'A', emails: ['a@b.c'] }, /emails/],
    ['/api/v2/persons', { name: 'A', label_ids: [99] }, /label 99/],
    ['/api/v2/organizations', { name: 'A', address: 'Berlin' }, /address/],
    [
      '/api/v2/activities',
      { subject: 's', type: 'call', person_id: 1, participants: [] },
      /Validation failed/
    ],
    [
      '/api/v2/activities',
      { subject: 's', type: 'nope', participants: [{ person_id: 1, primary: true }] },
      /type/
    ]
  ]
  for (const [path, body, message] of cases) {
    const answer = await call('POST', path, body)
    t.equal(answer.status, 400, `${path} ${JSON.stringify(body)}`)
    t.match(answer.json, { success: false, error: message, data: null })
  }
  t.equal((await call('GET', '/api/v2/persons/abc')).status, 400)
  t.equal((await call('GET', '/api/v2/persons/999')).status, 404)
  t.equal((await call('GET', '/api/v2/deals')).status, 404, 'only the pinned surface exists')
})

t.test('the default company', async (t) => {
  const fields = await call('GET', '/api/v2/personFields')
  const labels = (
    fields.json.data as Array<{ field_code: string; options: Array<{ label: string }> | null }>
  ).find((field) => field.field_code === 'label_ids')
  t.same(
    labels?.options?.map((o) => o.label),
    ['Customer', 'Hot lead', 'Warm lead', 'Cold lead']
  )
  const orgFields = (await call('GET', '/api/v2/organizationFields')).json.data as Array<{
    field_code: string
    field_name: string
    field_type: string
    is_custom_field: boolean
    options: Array<{ id: number; label: string }> | null
  }>
  const industry = orgFields.filter((f) => f.field_name === 'Industry')
  t.match(industry, [{ field_code: 'industry', field_type: 'enum', is_custom_field: false }])
  t.ok(
    ['Software', 'Retail', 'Manufacturing', 'Finance'].every((label) =>
      industry[0]?.options?.some((o) => o.label === label && Number.isInteger(o.id))
    ),
    'the standard industry field has a ready-made list of options'
  )
  const found = (await call('GET', '/api/v1/users/find?term=crm.example&search_by_email=1')).json
    .data as unknown[]
  t.equal(found.length, 3, 'partial matching, inactive users included: the client filters')
  t.equal((await call('GET', '/api/v1/users/find?term=nobody&search_by_email=1')).json.data, null)
})

t.test(
  'organizations: industry is an option id of the standard field; custom_fields only custom fields',
  async (t) => {
    const software = sandbox.store.organizationFields
      .find((field) => field.field_code === 'industry')
      ?.options?.find((option) => option.label === 'Software')?.id
    const created = await call('POST', '/api/v2/organizations', { name: 'A', industry: software })
    t.equal(created.status, 200)
    t.match(created.json.data, { name: 'A', industry: software })
    const refused: Array<[unknown, RegExp]> = [
      [{ name: 'B', industry: 9999 }, /industry: option 9999 not found/],
      [{ name: 'B', industry: 'Software' }, /industry/],
      [{ name: 'B', custom_fields: { industry: software } }, /custom_fields.industry: not a custom field/],
      [{ name: 'B', custom_fields: { [`${'f'.repeat(40)}`]: 'x' } }, /not a custom field of this account/]
    ]
    for (const [body, message] of refused) {
      const answer = await call('POST', '/api/v2/organizations', body)
      t.equal(answer.status, 400, JSON.stringify(body))
      t.match(answer.json, { success: false, error: message })
    }
    const person = await call('POST', '/api/v2/persons', { name: 'P', custom_fields: { industry: 'x' } })
    t.equal(person.status, 400, 'persons too: no custom field by that code')
    t.equal(sandbox.store.organizations.length, 1)
  }
)

t.test('an older account: a custom "Industry" field and no standard one', async (t) => {
  sandbox.reset({ company: { industryField: 'custom-enum' } })
  const fields = (await call('GET', '/api/v2/organizationFields')).json.data as Array<{
    field_code: string
    field_name: string
    is_custom_field: boolean
  }>
  const industry = fields.filter((f) => f.field_name === 'Industry')
  t.match(industry, [{ field_code: CUSTOM_INDUSTRY_FIELD_CODE, is_custom_field: true }])
  t.notOk(fields.some((f) => f.field_code === 'industry'))
  const refused = await call('POST', '/api/v2/organizations', { name: 'A', industry: 24 })
  t.match(refused, { status: 400, json: { error: /this account has no industry field/ } })
  const wrong = await call('POST', '/api/v2/organizations', {
    name: 'A',
    custom_fields: { [CUSTOM_INDUSTRY_FIELD_CODE]: 'Retail' }
  })
  t.match(wrong, { status: 400, json: { error: /invalid value for a enum field/ } })
  const created = await call('POST', '/api/v2/organizations', {
    name: 'A',
    custom_fields: { [CUSTOM_INDUSTRY_FIELD_CODE]: 33 }
  })
  t.equal(created.status, 200)
  sandbox.reset({ company: { industryField: 'custom-text' } })
  const text = await call('POST', '/api/v2/organizations', {
    name: 'A',
    custom_fields: { [CUSTOM_INDUSTRY_FIELD_CODE]: 'Retail' }
  })
  t.match(text, {
    status: 200,
    json: { data: { custom_fields: { [CUSTOM_INDUSTRY_FIELD_CODE]: 'Retail' } } }
  })
})

t.test('v1 field update deletes options left out, as Pipedrive does', async (t) => {
  const answer = await call('PUT', '/api/v1/personFields/9051', {
    options: [{ id: 5, label: 'Customer' }, { label: 'New' }]
  })
  t.equal(answer.status, 200)
  t.same(
    sandbox.store.labelField().options?.map((o) => o.label),
    ['Customer', 'New']
  )
})

t.test('PATCH label_ids replaces the set', async (t) => {
  const person = (await call('POST', '/api/v2/persons', { name: 'A', label_ids: [5] })).json.data as {
    id: number
  }
  await call('PATCH', `/api/v2/persons/${person.id}`, { label_ids: [7] })
  t.same(sandbox.store.persons[0]?.label_ids, [7])
})

t.test('rate limits: headers, 429 with retry-after, search has its own window', async (t) => {
  sandbox.reset({
    rateLimit: { general: { limit: 3, windowMs: 60_000 }, search: { limit: 1, windowMs: 60_000 } }
  })
  const first = await call('GET', '/api/v1/users/me')
  t.equal(first.headers.get('x-ratelimit-limit'), '3')
  t.equal(first.headers.get('x-ratelimit-remaining'), '2')
  t.equal(first.headers.get('x-ratelimit-reset'), '60')
  t.ok(first.headers.get('x-daily-requests-left'))
  t.equal((await call('GET', '/api/v2/persons/search?term=ab&fields=email')).status, 200)
  const search = await call('GET', '/api/v2/persons/search?term=ab&fields=email')
  t.equal(search.status, 429)
  t.equal(search.headers.get('retry-after'), '60')
  t.equal((await call('GET', '/api/v1/users/me')).status, 429, 'refused requests count too')
  t.equal(
    (await call('GET', '/api/v1/users/me', undefined, sandbox.tokens['sales@crm.example'] ?? '')).status,
    200,
    'per token'
  )
  t.equal((await call('GET', '/api/v1/users/me', undefined, 'bad')).status, 401, 'no token, no budget used')
})

t.test('faults: fail next N (JSON or HTML), latency, drop, down; all in the request log', async (t) => {
  sandbox.faults.set({ failNext: { count: 2, status: 502, path: '/api/v1/users/me' } })
  t.equal((await call('GET', '/api/v1/activityTypes')).status, 200, 'other paths unaffected')
  t.equal((await call('GET', '/api/v1/users/me')).status, 502)
  t.equal((await call('GET', '/api/v1/users/me')).status, 502)
  t.equal((await call('GET', '/api/v1/users/me')).status, 200)
  sandbox.faults.set({ failNext: { count: 1, status: 403, html: true } })
  const html = await call('GET', '/api/v1/users/me')
  t.equal(html.status, 403)
  t.match(html.json, /<html>/)
  sandbox.faults.set({ dropNext: { count: 1 } })
  await t.rejects(call('GET', '/api/v1/users/me'))
  sandbox.faults.set({ down: true })
  t.equal((await call('GET', '/api/v1/users/me')).status, 503)
  sandbox.faults.set({ latencyMs: 20 })
  t.equal((await call('GET', '/api/v1/users/me')).status, 200)
  t.same(
    sandbox.requests.map((r) => r.fault ?? r.status),
    [200, 'failed', 'failed', 200, 'failed', 'dropped-before', 'down', 200]
  )
  t.notMatch(JSON.stringify(sandbox.requests), sandbox.token, 'the log keeps user ids, not tokens')
})

t.test('control API over HTTP (for tests in other processes)', async (t) => {
  const control = (method: string, path: string, body?: unknown) =>
    fetch(`${sandbox.url}/__sandbox${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }))
  t.equal((await control('PUT', '/faults', { failNext: { count: 1, status: 500 } })).status, 200)
  t.match((await control('GET', '/faults')).json, { failNext: { count: 1, status: 500 } })
  t.equal((await call('GET', '/api/v1/users/me')).status, 500)
  t.match((await control('GET', '/requests')).json, {
    requests: [{ path: '/api/v1/users/me', status: 500, userId: 1001 }]
  })
  t.equal((await control('PUT', '/faults', { failNext: { count: 'x' } })).status, 400)
  t.equal(
    (
      await control('PUT', '/rate-limit', {
        general: { limit: 5, windowMs: 1000 },
        search: { limit: 1, windowMs: 1000 }
      })
    ).status,
    200
  )
  t.equal((await call('GET', '/api/v1/users/me')).headers.get('x-ratelimit-limit'), '5')
  await call('POST', '/api/v2/persons', { name: 'A' })
  const state = (await control('GET', '/state')).json
  t.match(state, {
    persons: [{ name: 'A' }],
    users: [{ email: 'owner@crm.example', token: 'sandbox-token-owner' }]
  })
  t.equal((await control('POST', '/reset', { company: { industryField: 'none' } })).status, 200)
  t.same((await control('GET', '/state')).json.persons, [])
  t.same((await control('GET', '/requests')).json.requests, [])
  t.equal((await control('DELETE', '/faults')).status, 200)
})

t.test('the request log gives each answered call its duration, injected latency included', async (t) => {
  const latencyMs = 50
  sandbox.faults.set({ latencyMs })
  await call('GET', '/api/v1/users/me')
  const [entry] = sandbox.requests
  t.equal(entry?.status, 200)
  t.ok((entry?.durationMs ?? 0) >= latencyMs, `durationMs ${entry?.durationMs} ≥ ${latencyMs}`)
})
