import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../../src/db/database.js'
import { build, TEST_OPERATOR_KEY, testConfig, testDatabase, uid } from '../../helper.js'

const database = await testDatabase(t)

t.test('without a valid bearer key: 401, and the key budget is untouched', async (t) => {
  const app = await build(t, database, {
    startWorker: false,
    config: testConfig({ OPERATOR_RATE_LIMIT: '2' })
  })
  const url = '/api/contacts/nobody/sync-status'
  for (const authorization of [undefined, 'Bearer wrong-key', `Basic ${TEST_OPERATOR_KEY}`, 'Bearer ']) {
    const response = await app.inject({ url, headers: authorization ? { authorization } : {} })
    t.equal(response.statusCode, 401, `authorization: ${authorization}`)
    t.match(response.json(), { statusCode: 401, error: 'Unauthorized', message: /operator key/ })
    t.notMatch(response.body, TEST_OPERATOR_KEY)
  }
  const headers = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
  t.equal((await app.inject({ url, headers })).statusCode, 404, 'first valid request passes')
  t.equal((await app.inject({ url, headers })).statusCode, 404, 'second valid request passes')
  const limited = await app.inject({ url, headers })
  t.equal(limited.statusCode, 429, 'the third in a minute is refused')
  t.ok(Number(limited.headers['retry-after']) > 0, 'with retry-after')
  t.match(limited.json(), { statusCode: 429, error: 'Too Many Requests' })
})

t.test('the limit applies to operator routes only, not to webhooks or health', async (t) => {
  const app = await build(t, database, {
    startWorker: false,
    config: testConfig({ OPERATOR_RATE_LIMIT: '1' })
  })
  for (let i = 0; i < 3; i++) t.equal((await app.inject('/health')).statusCode, 200)
})

t.test('every request with a valid key counts, whatever its answer; 401s do not', async (t) => {
  const limit = 4
  const app = await build(t, database, {
    startWorker: false,
    config: testConfig({ OPERATOR_RATE_LIMIT: String(limit) })
  })
  const headers = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
  const wrong = { authorization: 'Bearer not-the-operator-key' }
  const [done] = await rows<{ id: string }>(
    database.db,
    sql`insert into jobs (type, entity_id, serial_key, state) values ('contact.sync', ${uid('c')}, ${uid('k')}, 'done')
        returning id::text as id`
  )
  const answers: number[] = []
  const counted: Array<{ method: 'GET' | 'POST'; url: string; payload?: object }> = [
    // Fails body validation: 400 before any handler runs.
    { method: 'POST', url: '/api/contacts/c_1/check-warm-lead', payload: { contactId: 42 } },
    // Fails query validation.
    { method: 'GET', url: '/api/sync/failures?limit=0' },
    // Unknown contact: 404 from the handler.
    { method: 'GET', url: '/api/contacts/nobody/sync-status' },
    // A finished job cannot be retried: 409.
    { method: 'POST', url: `/api/sync/jobs/${done?.id}/retry` }
  ]
  for (const request of counted) {
    answers.push((await app.inject({ ...request, headers })).statusCode)
    // Interleaved requests without a valid key: refused, and not counted.
    t.equal((await app.inject({ ...request, headers: wrong })).statusCode, 401)
  }
  t.same(answers, [400, 400, 404, 409], 'the answers the counted requests got')
  const limited = await app.inject({ method: 'GET', url: '/api/contacts/nobody/sync-status', headers })
  t.equal(limited.statusCode, 429, `request ${limit + 1} with the key is refused`)
  t.ok(Number(limited.headers['retry-after']) > 0, 'with retry-after')
  const stillUnauthorized = await app.inject({ url: '/api/sync/failures', headers: wrong })
  t.equal(stillUnauthorized.statusCode, 401, 'a request without a valid key still gets 401, not 429')
})
