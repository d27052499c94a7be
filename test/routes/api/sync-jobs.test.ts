import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../../src/db/database.js'
import { JOB_TYPES } from '../../../src/jobs/job-types.js'
import {
  build,
  contactEvent,
  eventually,
  postWebhook,
  TEST_OPERATOR_KEY,
  testConfig,
  testDatabase
} from '../../helper.js'

const database = await testDatabase(t)
const failing = new Set<string>()
const ran: string[] = []
const app = await build(t, database, {
  config: testConfig({ SYNC_MAX_ATTEMPTS: '2', SYNC_BACKOFF_BASE_MS: '60000', OPERATOR_RATE_LIMIT: '10000' }),
  pollIntervalMs: 20,
  jobHandlers: {
    [JOB_TYPES.contactSync]: async (job) => {
      ran.push(job.entityId)
      if (failing.has(job.entityId)) throw new Error(`Pipedrive answered 503 for ${job.entityId}`)
    }
  }
})
const headers = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
const api = (method: 'GET' | 'POST', url: string) => app.inject({ method, url, headers })
const jobOf = async (entityId: string) =>
  (
    await rows<{ id: string; state: string }>(
      app.db,
      sql`select id::text as id, state from jobs where entity_id = ${entityId} order by jobs.id desc limit 1`
    )
  )[0]
const runNow = (entityId: string) =>
  app.db.execute(sql`update jobs set run_at = now() where entity_id = ${entityId} and state = 'retrying'`)

async function failingContact(rounds: 1 | 2): Promise<string> {
  const event = contactEvent()
  const id = event.data.id
  failing.add(id)
  await postWebhook(app, event)
  await eventually(async () => (await jobOf(id))?.state === 'retrying')
  if (rounds === 2) {
    await runNow(id)
    app.jobs.notify()
    await eventually(async () => (await jobOf(id))?.state === 'dead')
  }
  return id
}

t.test('failures list retrying and dead jobs with what went wrong', async (t) => {
  const retrying = await failingContact(1)
  const dead = await failingContact(2)
  const { items, nextCursor } = (await api('GET', '/api/sync/failures?limit=100')).json()
  t.equal(nextCursor, null)
  const byId = new Map(items.map((item: { id: string }) => [item.id, item]))
  t.match(byId.get(retrying), {
    jobId: /^\d+$/,
    entity: 'contact',
    state: 'retrying',
    attempts: 1,
    lastError: `Pipedrive answered 503 for ${retrying}`,
    nextAttemptAt: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
  })
  t.match(byId.get(dead), { state: 'dead', attempts: 2, nextAttemptAt: null })
  t.ok(
    items.findIndex((i: { id: string }) => i.id === dead) <
      items.findIndex((i: { id: string }) => i.id === retrying),
    'newest failure first'
  )
})

t.test('pages follow the cursor without gaps or repeats; a forged cursor is 400', async (t) => {
  for (let i = 0; i < 4; i++) await failingContact(1)
  const all = (await api('GET', '/api/sync/failures?limit=100'))
    .json()
    .items.map((i: { jobId: string }) => i.jobId)
  const paged: string[] = []
  let cursor: string | null = null
  do {
    const page: { items: Array<{ jobId: string }>; nextCursor: string | null } = (
      await api('GET', `/api/sync/failures?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
    ).json()
    t.ok(page.items.length <= 2)
    paged.push(...page.items.map((i: { jobId: string }) => i.jobId))
    cursor = page.nextCursor
  } while (cursor)
  t.same(paged, all)
  const forged = await api('GET', '/api/sync/failures?cursor=bm9wZQ')
  t.equal(forged.statusCode, 400)
  t.equal((await api('GET', '/api/sync/failures?limit=0')).statusCode, 400)
  t.equal((await api('GET', '/api/sync/failures?limit=101')).statusCode, 400)
})

t.test('retrying one job: a dead job runs again now; other states are 409; unknown 404', async (t) => {
  const id = await failingContact(2)
  const job = await jobOf(id)
  failing.delete(id)
  const response = await api('POST', `/api/sync/jobs/${job?.id}/retry`)
  t.equal(response.statusCode, 202)
  t.same(response.json(), { success: true, queued: 1 })
  await eventually(async () => (await jobOf(id))?.state === 'done')
  const replay = await jobOf(id)
  t.not(replay?.id, job?.id, 'the replay is a new job')
  const again = await api('POST', `/api/sync/jobs/${job?.id}/retry`)
  t.equal(again.statusCode, 409)
  t.match(again.json(), {
    success: false,
    error: `job ${job?.id} was replayed as job ${replay?.id}, which is done`
  })
  const done = await api('POST', `/api/sync/jobs/${replay?.id}/retry`)
  t.equal(done.statusCode, 409)
  t.match(done.json(), { success: false, error: /neither dead nor retrying \(done\)/ })
  t.equal((await api('POST', '/api/sync/jobs/999999999/retry')).statusCode, 404)
  t.equal((await api('POST', '/api/sync/jobs/not-a-number/retry')).statusCode, 404)
})

t.test('retry-dead queues every dead job', async (t) => {
  const ids = [await failingContact(2), await failingContact(2)]
  for (const id of ids) failing.delete(id)
  const response = await api('POST', '/api/sync/retry-dead')
  t.equal(response.statusCode, 202)
  t.ok(response.json().queued >= 2)
  for (const id of ids) await eventually(async () => (await jobOf(id))?.state === 'done')
  t.pass('both ran to done')
})

t.test('every malformed cursor or limit is a 400 naming the problem, never a 500', async (t) => {
  const b64 = (text: string) => Buffer.from(text).toString('base64url')
  const cursors = {
    'twenty digits': b64('99999999999999999999:99999999999999999999'),
    'a time past int8': b64('9223372036854775808:1'),
    'an id past int8': b64('1:9223372036854775808'),
    huge: b64(`${'9'.repeat(60)}:1`),
    negative: b64('-1:-1'),
    'not base64': '%%%***',
    'base64 of nonsense': b64('hello world'),
    'missing id': b64('1700000000000000:'),
    'three parts': b64('1:2:3'),
    'padded digits': b64(' 1:2'),
    'too long': 'A'.repeat(201)
  }
  for (const [what, cursor] of Object.entries(cursors)) {
    const response = await api('GET', `/api/sync/failures?cursor=${encodeURIComponent(cursor)}`)
    t.equal(response.statusCode, 400, `cursor: ${what}`)
    t.match(response.json(), { success: false, error: /cursor/ }, `cursor: ${what} is named`)
  }
  for (const limit of ['0', '101', '-1', '1.5', 'abc', '99999999999999999999', '']) {
    const response = await api('GET', `/api/sync/failures?limit=${limit}`)
    t.equal(response.statusCode, 400, `limit=${limit}`)
    t.match(response.json(), { success: false, error: /limit/ }, `limit=${limit} is named`)
  }
  const empty = await api('GET', '/api/sync/failures?cursor=')
  t.equal(empty.statusCode, 400, 'an empty cursor')
})
