import t from 'tap'
import { findUsers, getCurrentUser, getPerson, postPerson } from '../../src/pipedrive/api.js'
import {
  PipedriveError,
  PipedriveNetworkError,
  PipedriveRateLimitError,
  PipedriveRatePausedError
} from '../../src/pipedrive/errors.js'
import { fail, mockPipedrive, ok, sentBody, TOKEN } from './mock-pipedrive.js'

const user = { id: 1001, name: 'Olga Owner', email: 'owner@crm.example', active_flag: true, is_admin: true }
const person = { id: 7, name: 'Ada', owner_id: 1001, org_id: null, label_ids: [], emails: [], phones: [] }

t.test('sends the token header, exact path and query, and unwraps the envelope', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({
      path: '/api/v1/users/find?term=owner%40crm.example&search_by_email=1',
      method: 'GET',
      headers: { 'x-api-token': TOKEN, accept: 'application/json' }
    })
    .reply(200, ok([user]))
  t.same(await findUsers(setup.client, 'owner@crm.example'), [user])
  t.same(setup.budget.acquired, [{ key: setup.client.key, kind: 'general' }])
  t.same(setup.budget.released, [true])
  t.equal(setup.attempts.length, 1)
  t.equal(setup.attempts[0]?.status, 200)
  t.equal(setup.attempts[0]?.endpoint, 'users.find')
  setup.agent.assertNoPendingInterceptors()
})

t.test('data: null from users/find is an empty list', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v1/users/find?term=nobody%40x.y&search_by_email=1', method: 'GET' })
    .reply(200, ok(null))
  t.same(await findUsers(setup.client, 'nobody@x.y'), [])
})

t.test('sends JSON bodies exactly', async (t) => {
  const setup = mockPipedrive()
  const body = { name: 'Ada', emails: [{ value: 'ada@x.y', primary: true, label: 'work' }], label_ids: [3] }
  setup.pool
    .intercept({
      path: '/api/v2/persons',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-token': TOKEN },
      body: JSON.stringify(body)
    })
    .reply(201, ok({ ...person, name: 'Ada' }))
  t.equal((await postPerson(setup.client, body)).id, 7)
  t.same(sentBody(setup, 0), body)
})

t.test('search paths use the search budget', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v2/persons/search?term=a%40b.c&fields=email&exact_match=true', method: 'GET' })
    .reply(200, ok({ items: [] }))
  const { searchPersons } = await import('../../src/pipedrive/api.js')
  t.same(await searchPersons(setup.client, 'a@b.c'), [])
  t.same(setup.budget.acquired, [{ key: setup.client.key, kind: 'search' }])
})

for (const status of [400, 401, 402, 403, 404, 410, 422]) {
  t.test(`${status} is not retried and says what Pipedrive answered`, async (t) => {
    const setup = mockPipedrive()
    setup.pool.intercept({ path: '/api/v2/persons/7', method: 'GET' }).reply(status, fail(`answer ${status}`))
    const error = await getPerson(setup.client, 7).catch((e: unknown) => e)
    t.type(error, PipedriveError)
    t.notOk(error instanceof PipedriveRateLimitError)
    const e = error as PipedriveError
    t.equal(e.status, status)
    t.equal(e.pipedriveMessage, `answer ${status}`)
    t.equal(e.retryable, false)
    t.match(e.message, `Pipedrive answered ${status} to GET /api/v2/persons/7: answer ${status}`)
    t.notMatch(e.message, TOKEN)
    t.equal(setup.attempts.length, 1)
    t.same(setup.delays, [])
  })
}

t.test('5xx is retried 3 times with doubling backoff, then fails', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v2/persons/7', method: 'GET' }).reply(500, fail('boom')).times(4)
  const error = (await getPerson(setup.client, 7).catch((e: unknown) => e)) as PipedriveError
  t.type(error, PipedriveError)
  t.equal(error.status, 500)
  t.equal(error.retryable, true)
  t.equal(error.ambiguous, true)
  t.same(setup.delays, [100, 200, 400])
  t.same(
    setup.attempts.map((a) => a.attempt),
    [1, 2, 3, 4]
  )
})

t.test('a retry that succeeds returns the data', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v1/users/me', method: 'GET' }).reply(503, 'Service Unavailable')
  setup.pool.intercept({ path: '/api/v1/users/me', method: 'GET' }).reply(200, ok(user))
  t.same(await getCurrentUser(setup.client), user)
  t.same(setup.delays, [100])
})

t.test('429 waits the longer of retry-after and the backoff, and pauses the token', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .reply(429, fail('Request over limit'), { headers: { 'retry-after': '2' } })
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .reply(429, fail('Request over limit'), { headers: { 'retry-after': '0' } })
  setup.pool.intercept({ path: '/api/v1/users/me', method: 'GET' }).reply(200, ok(user))
  t.same(await getCurrentUser(setup.client), user)
  t.same(
    setup.delays,
    [2000, 200],
    'retry-after 2 s beats a 100 ms backoff; a 0 s retry-after leaves the backoff'
  )
  t.same(setup.budget.pauses, [2000])
})

t.test('429 retried 3 times then a rate-limit error with the wait', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .reply(429, fail('Request over limit'), { headers: { 'retry-after': '10' } })
    .times(4)
  const error = (await getCurrentUser(setup.client).catch((e: unknown) => e)) as PipedriveRateLimitError
  t.type(error, PipedriveRateLimitError)
  t.equal(error.waitMs, 10_000)
  t.equal(error.ambiguous, false)
  t.equal(setup.attempts.length, 4)
})

t.test('a 429 asking for a long wait is not waited inside the call: the token is paused', async (t) => {
  const setup = mockPipedrive({ maxRateLimitWaitMs: 2_000 })
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .reply(429, fail('Request over limit'), { headers: { 'retry-after': '30' } })
  const error = await getCurrentUser(setup.client).catch((e: unknown) => e)
  t.type(error, PipedriveRatePausedError)
  t.equal((error as PipedriveRatePausedError).waitMs, 30_000, 'says how long the pause lasts')
  t.type((error as Error).cause, PipedriveRateLimitError, 'with the 429 as its cause')
  t.same(setup.delays, [], 'no in-line wait')
  t.equal(setup.attempts.length, 1, 'and no second request')
  t.same(setup.budget.pauses, [30_000], 'the token is paused for every call')
})

t.test('a 429 asking for a short wait is still waited and retried in-line', async (t) => {
  const setup = mockPipedrive({ maxRateLimitWaitMs: 2_000 })
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .reply(429, fail('Request over limit'), { headers: { 'retry-after': '2' } })
  setup.pool.intercept({ path: '/api/v1/users/me', method: 'GET' }).reply(200, ok(user))
  t.same(await getCurrentUser(setup.client), user)
  t.same(setup.delays, [2_000])
})

t.test('an HTML 403 from the CDN counts as rate limiting', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .reply(403, '<html><body>Access denied</body></html>', { headers: { 'content-type': 'text/html' } })
  setup.pool.intercept({ path: '/api/v1/users/me', method: 'GET' }).reply(200, ok(user))
  t.same(await getCurrentUser(setup.client), user)
  t.equal(setup.attempts[0]?.error?.name, 'PipedriveRateLimitError')
  t.same(setup.delays, [10_000], 'no retry-after: Pipedrive’s observed 10 s')
})

t.test('x-ratelimit-remaining: 0 while our budget had room pauses the token until the reset', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .reply(200, ok(user), { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3' } })
  await getCurrentUser(setup.client)
  t.same(setup.budget.pauses, [3000], 'someone else uses the token: stop until the reset')
})

t.test('x-ratelimit-remaining: 0 on the call that filled our budget too does not pause', async (t) => {
  const setup = mockPipedrive()
  setup.budget.spare = 0
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .reply(200, ok(user), { headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3' } })
  await getCurrentUser(setup.client)
  t.same(setup.budget.pauses, [], 'the budget itself holds the next call back until a slot frees')
})

t.test('a refused connection is retried, not counted against the budget, not ambiguous', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
    .times(4)
  const error = (await getCurrentUser(setup.client).catch((e: unknown) => e)) as PipedriveNetworkError
  t.type(error, PipedriveNetworkError)
  t.equal(error.kind, 'refused')
  t.equal(error.sent, false)
  t.equal(error.ambiguous, false)
  t.same(setup.budget.released, [false, false, false, false])
  t.equal(setup.attempts.length, 4, 'every attempt is reported, refused ones included')
})

t.test('a reset after sending is an ambiguous network error', async (t) => {
  const setup = mockPipedrive()
  setup.pool
    .intercept({ path: '/api/v1/users/me', method: 'GET' })
    .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
  setup.pool.intercept({ path: '/api/v1/users/me', method: 'GET' }).reply(200, ok(user))
  await getCurrentUser(setup.client)
  const error = setup.attempts[0]?.error as PipedriveNetworkError
  t.type(error, PipedriveNetworkError)
  t.equal(error.kind, 'reset')
  t.equal(error.ambiguous, true)
  t.same(setup.budget.released, [true, true])
})

t.test('no answer within the request timeout is an ambiguous timeout', async (t) => {
  const setup = mockPipedrive({ requestTimeoutMs: 30 })
  setup.pool.intercept({ path: '/api/v1/users/me', method: 'GET' }).reply(200, ok(user)).delay(500).times(4)
  const error = (await getCurrentUser(setup.client).catch((e: unknown) => e)) as PipedriveNetworkError
  t.type(error, PipedriveNetworkError)
  t.equal(error.kind, 'timeout')
  t.equal(error.ambiguous, true)
})

t.test('an answer of the wrong shape is an error, not data', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v2/persons/7', method: 'GET' }).reply(200, ok({ id: '7', name: 'Ada' }))
  const error = (await getPerson(setup.client, 7).catch((e: unknown) => e)) as PipedriveError
  t.type(error, PipedriveError)
  t.match(error.pipedriveMessage, /unexpected answer shape: data\/id/)
  t.equal(error.retryable, false)
})

t.test('success: false in a 200 is an error', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v2/persons/7', method: 'GET' }).reply(200, fail('strange'))
  const error = (await getPerson(setup.client, 7).catch((e: unknown) => e)) as PipedriveError
  t.equal(error.pipedriveMessage, 'strange')
})

t.test('an unmatched request fails at once (no network, no retry)', async (t) => {
  const setup = mockPipedrive()
  const error = (await getPerson(setup.client, 99).catch((e: unknown) => e)) as Error
  t.equal(error.name, 'MockNotMatchedError')
  t.equal(setup.attempts.length, 1)
})

t.test('the token never appears in errors or logs', async (t) => {
  const setup = mockPipedrive()
  setup.pool.intercept({ path: '/api/v2/persons/7', method: 'GET' }).reply(500, fail('boom')).times(4)
  setup.pool.intercept({ path: '/api/v1/users/me', method: 'GET' }).reply(401, fail(`unauthorized`))
  const errors = [
    await getPerson(setup.client, 7).catch((e: unknown) => e),
    await getCurrentUser(setup.client).catch((e: unknown) => e)
  ]
  t.ok(setup.logs.length > 0)
  const everything = [
    ...setup.logs,
    ...errors.map((e) => `${(e as Error).message} ${(e as Error).stack}`)
  ].join('\n')
  t.notMatch(everything, TOKEN)
  t.notMatch(JSON.stringify(setup.client), TOKEN)
})
