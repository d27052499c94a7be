import { sql } from 'drizzle-orm'
import t from 'tap'
import { decryptToken } from '../../../src/crypto/token-cipher.js'
import { rows } from '../../../src/db/database.js'
import { captureLog } from '../../capture-log.js'
import {
  build,
  contactEvent,
  eventually,
  postWebhook,
  sandboxConfig,
  TEST_OPERATOR_KEY,
  testDatabase,
  testSandbox,
  uid
} from '../../helper.js'

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const KEY = Buffer.alloc(32, 9).toString('base64')
const app = await build(t, database, {
  config: sandboxConfig(sandbox, { TOKEN_ENCRYPTION_KEY: KEY }),
  pollIntervalMs: 20
})
const setup = (body: unknown, target = app) =>
  target.inject({
    method: 'POST',
    url: '/api/pipedrive/setup-user',
    headers: { authorization: `Bearer ${TEST_OPERATOR_KEY}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body)
  })
const userRow = async (email: string) =>
  (
    await rows<{ pipedrive_user_id: number | null; api_token_ciphertext: string | null }>(
      app.db,
      sql`select pipedrive_user_id, api_token_ciphertext from users where email = ${email}`
    )
  )[0]

t.test('finds the Pipedrive user by email and stores the id (a number)', async (t) => {
  const response = await setup({ email: 'Sales@CRM.example' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { success: true, pipedriveUserId: 1002 })
  t.equal((await userRow('sales@crm.example'))?.pipedrive_user_id, 1002)
})

t.test('no such Pipedrive user: 404; inactive counts as none', async (t) => {
  for (const email of ['nobody@crm.example', 'former@crm.example']) {
    const response = await setup({ email })
    t.equal(response.statusCode, 404)
    t.same(response.json(), { success: false, error: `no active Pipedrive user has the email ${email}` })
  }
})

t.test('a bad email: 400 naming the field', async (t) => {
  const response = await setup({ email: 'not-an-email' })
  t.equal(response.statusCode, 400)
  t.match(response.json(), { success: false, error: /email/ })
  t.equal((await setup({})).statusCode, 400)
})

t.test('an own token is checked, stored encrypted, and used for that owner from then on', async (t) => {
  const token = sandbox.tokens['sales@crm.example'] as string
  const response = await setup({ email: 'sales@crm.example', apiToken: token })
  t.same(response.json(), { success: true, pipedriveUserId: 1002 })
  const stored = await userRow('sales@crm.example')
  t.ok(stored?.api_token_ciphertext, 'stored')
  t.notMatch(stored?.api_token_ciphertext ?? '', token, 'not in clear text')

  const email = `${uid('own')}@example.com`
  const before = sandbox.requests.length
  const event = contactEvent({
    email,
    owner: { id: 'u_sales', email: 'sales@crm.example' },
    organization: null
  })
  await postWebhook(app, event)
  await eventually(async () => sandbox.store.persons.some((p) => p.emails.some((e) => e.value === email)))
  const create = sandbox.requests
    .slice(before)
    .find((r) => r.method === 'POST' && r.path === '/api/v2/persons')
  t.equal(create?.userId, 1002, "the person was created with the owner's own token")
})

t.test('a token Pipedrive rejects, or one of another user: 422', async (t) => {
  const rejected = await setup({ email: 'sales@crm.example', apiToken: 'not-a-token' })
  t.equal(rejected.statusCode, 422)
  t.match(rejected.json(), { success: false, error: /rejected the token/ })
  t.notMatch(rejected.body, 'not-a-token', 'the token is not echoed')
  const other = await setup({ email: 'sales@crm.example', apiToken: sandbox.tokens['owner@crm.example'] })
  t.equal(other.statusCode, 422)
  t.match(other.json().error, /another Pipedrive user/)
})

t.test('a token without TOKEN_ENCRYPTION_KEY: 400', async (t) => {
  const noKey = await build(t, database, { config: sandboxConfig(sandbox), startWorker: false })
  const response = await setup({ email: 'sales@crm.example', apiToken: 'x' }, noKey)
  t.equal(response.statusCode, 400)
  t.match(response.json(), { success: false, error: /TOKEN_ENCRYPTION_KEY/ })
})

t.test('Pipedrive unreachable: 503', async (t) => {
  sandbox.faults.set({ down: true })
  t.teardown(() => sandbox.faults.clear())
  const response = await setup({ email: 'owner@crm.example' })
  t.equal(response.statusCode, 503)
  t.equal(response.json().success, false)
})

t.test(
  'the database refuses the write: 503 with its class only; the log has the details, not the values',
  async (t) => {
    const { lines, logger } = captureLog()
    const logged = await build(t, database, {
      config: sandboxConfig(sandbox, { TOKEN_ENCRYPTION_KEY: KEY }),
      startWorker: false,
      loggerInstance: logger
    })
    await app.db.execute(
      sql.raw("alter table users add constraint users_probe check (email <> 'owner@crm.example') not valid")
    )
    t.teardown(() => app.db.execute(sql.raw('alter table users drop constraint if exists users_probe')))
    const token = sandbox.tokens['owner@crm.example'] as string
    const response = await setup({ email: 'owner@crm.example', apiToken: token }, logged)
    t.equal(response.statusCode, 503)
    t.same(response.json(), { success: false, error: 'database error (23514)' })
    const failure = lines.map((line) => JSON.parse(line)).find((line) => line.err?.code === '23514')
    t.match(failure, { err: { constraint: 'users_probe', table: 'users' } }, 'logged with its code and names')
    t.notMatch(lines.join(''), 'owner@crm.example', 'not the email the statement carried')
    t.notMatch(lines.join(''), token, 'nor the token')
  }
)

t.test('with TOKEN_ENCRYPTION_KEYS, a token is stored under the first key, bound to its user', async (t) => {
  const current = Buffer.alloc(32, 10)
  const rotated = await build(t, database, {
    config: sandboxConfig(sandbox, { TOKEN_ENCRYPTION_KEYS: `${current.toString('base64')},${KEY}` }),
    startWorker: false
  })
  const token = sandbox.tokens['sales@crm.example'] as string
  t.equal((await setup({ email: 'sales@crm.example', apiToken: token }, rotated)).statusCode, 200)
  const [row] = await rows<{ ciphertext: string; iv: string; tag: string }>(
    app.db,
    sql`select api_token_ciphertext as ciphertext, api_token_iv as iv, api_token_tag as tag
        from users where email = 'sales@crm.example'`
  )
  if (!row) throw new Error('no users row')
  t.same(decryptToken([current], 'sales@crm.example', row), { token, current: true })
  t.throws(() => decryptToken([Buffer.from(KEY, 'base64')], 'sales@crm.example', row), 'not the old key')
  t.throws(() => decryptToken([current], 'owner@crm.example', row), "not another user's")
})
