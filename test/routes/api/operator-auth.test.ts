import t from 'tap'
import { build, TEST_OPERATOR_KEY, testConfig, testDatabase } from '../../helper.js'

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
