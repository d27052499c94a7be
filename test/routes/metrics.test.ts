import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { QUEUE_STATS_MAX_AGE_MS } from '../../src/jobs/queue-stats.js'
import { getPerson } from '../../src/pipedrive/api.js'
import { findPersonByEmail } from '../../src/pipedrive/persons.js'
import {
  activityEvent,
  build,
  contactEvent,
  postWebhook,
  sandboxConfig,
  signedHeaders,
  testDatabase,
  testSandbox,
  uid
} from '../helper.js'

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]])
    )
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[3])
  }
  return total
}

async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ url: '/metrics' })
  if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`)
  return response.body
}

const database = await testDatabase(t)
// The queue figures are read at most every QUEUE_STATS_MAX_AGE_MS of the app's clock: it stands
// still (well within the webhook timestamps' 300 s tolerance) unless a test moves it on.
const startedAt = Date.now()
let skewMs = 0
const app = await build(t, database, { startWorker: false, now: () => startedAt + skewMs })
const afterQueueStatsExpire = () => {
  skewMs += QUEUE_STATS_MAX_AGE_MS
}
const webhooks = (labels: Record<string, string>) =>
  scrape(app).then((text) => sample(text, 'pipedrive_sync_webhooks_received_total', labels))

t.test('GET /metrics: Prometheus text, no key needed, process metrics included', async (t) => {
  const response = await app.inject({ url: '/metrics' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.match(response.body, /# TYPE pipedrive_sync_webhooks_received_total counter/)
  t.match(response.body, /# TYPE pipedrive_sync_pipedrive_request_duration_seconds histogram/)
  t.match(response.body, /# TYPE pipedrive_sync_callback_deliveries_total counter/)
  t.match(response.body, /^process_cpu_seconds_total /m)
})

t.test('webhooks are counted by type and outcome', async (t) => {
  const contact = contactEvent()
  const first = await postWebhook(app, contact, { id: uid('msg') })
  t.equal(first.statusCode, 202)
  const again = await postWebhook(app, contact, { id: first.json().id })
  t.equal(again.statusCode, 200)
  const older = contactEvent({ ...contact.data, updatedAt: '2020-01-01T00:00:00.000Z' })
  t.equal((await postWebhook(app, older)).statusCode, 202)
  const activity = activityEvent()
  t.equal((await postWebhook(app, activity)).statusCode, 202)
  t.equal((await postWebhook(app, activity)).statusCode, 202, 'the same activity under a new id')
  t.equal(
    (await postWebhook(app, { type: 'deal.won', timestamp: contact.timestamp, data: {} })).statusCode,
    202
  )

  const contactType = { type: 'contact.updated' }
  t.equal(await webhooks({ ...contactType, outcome: 'queued', status: '202' }), 1)
  t.equal(await webhooks({ ...contactType, outcome: 'duplicate', status: '200' }), 1)
  t.equal(await webhooks({ ...contactType, outcome: 'stale', status: '202' }), 1)
  t.equal(await webhooks({ type: 'activity.created', outcome: 'queued', status: '202' }), 1)
  t.equal(await webhooks({ type: 'activity.created', outcome: 'known', status: '202' }), 1)
  t.equal(await webhooks({ type: 'unknown', outcome: 'ignored', status: '202' }), 1, 'not the type itself')
})

t.test('rejected webhooks are counted with their status', async (t) => {
  const body = JSON.stringify(contactEvent())
  const forged = await app.inject({
    method: 'POST',
    url: '/webhooks/crm',
    headers: { ...signedHeaders(body), 'webhook-signature': 'v1,AAAA' },
    body
  })
  t.equal(forged.statusCode, 401)
  const notJson = 'not json'
  t.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/webhooks/crm',
        headers: signedHeaders(notJson),
        body: notJson
      })
    ).statusCode,
    400
  )
  const text = await app.inject({
    method: 'POST',
    url: '/webhooks/crm',
    headers: signedHeaders(body, { contentType: 'text/plain' }),
    body
  })
  t.equal(text.statusCode, 415)
  const huge = JSON.stringify({ ...contactEvent(), padding: 'x'.repeat(1024 * 1024) })
  t.equal(
    (await app.inject({ method: 'POST', url: '/webhooks/crm', headers: signedHeaders(huge), body: huge }))
      .statusCode,
    413
  )
  for (const status of ['401', '400', '415', '413']) {
    t.equal(await webhooks({ outcome: 'rejected', status }), 1, `one ${status}`)
  }
  t.equal(await webhooks({ outcome: 'rejected' }), 4, 'nothing else counted as rejected')
})

t.test('jobs by state and the age of the oldest runnable job, read from the table', async (t) => {
  afterQueueStatsExpire()
  const text = await scrape(app)
  const before = sample(text, 'pipedrive_sync_jobs', { state: 'pending' })
  t.ok(before >= 2, `${before} pending jobs from the webhooks above`)
  t.equal(sample(text, 'pipedrive_sync_jobs', { state: 'dead' }), 0, 'an empty state is 0, not absent')
  t.match(text, /^pipedrive_sync_jobs\{state="dead"\} 0$/m)

  const id = uid('c')
  t.equal((await postWebhook(app, contactEvent({ id }))).statusCode, 202)
  await app.db.execute(sql`update jobs set run_at = now() - interval '2 minutes' where entity_id = ${id}`)
  const later = uid('c')
  t.equal((await postWebhook(app, contactEvent({ id: later }))).statusCode, 202)
  await app.db.execute(
    sql`update jobs set state = 'retrying', run_at = now() + interval '1 hour' where entity_id = ${later}`
  )

  afterQueueStatsExpire()
  const after = await scrape(app)
  t.equal(sample(after, 'pipedrive_sync_jobs', { state: 'pending' }), before + 1)
  t.equal(sample(after, 'pipedrive_sync_jobs', { state: 'retrying' }), 1)
  const age = sample(after, 'pipedrive_sync_queue_oldest_runnable_job_age_seconds')
  t.ok(age >= 120 && age < 180, `oldest runnable job waited ${age} s (a job not yet due does not count)`)
})

t.test('scrapes in quick succession read the queue once; an older reading is replaced', async (t) => {
  afterQueueStatsExpire()
  const pending = async () => sample(await scrape(app), 'pipedrive_sync_jobs', { state: 'pending' })
  const first = await pending()
  t.equal((await postWebhook(app, contactEvent())).statusCode, 202)
  t.equal(await pending(), first, 'a scrape right after reports the same reading, without asking the table')
  skewMs += QUEUE_STATS_MAX_AGE_MS - 1
  t.equal(await pending(), first, 'still the same just before the reading is too old')
  skewMs += 1
  t.equal(await pending(), first + 1, 'then the table is read again')
})

t.test('each app has its own registry', async (t) => {
  const other = await build(t, database, { startWorker: false })
  t.equal(sample(await scrape(other), 'pipedrive_sync_webhooks_received_total'), 0)
  t.ok(sample(await scrape(app), 'pipedrive_sync_webhooks_received_total') > 0)
})

t.test('Pipedrive calls: by endpoint and status, latency, rate-limit waits', async (t) => {
  const sandbox = await testSandbox(t)
  const SEARCH_WINDOW_MS = 1000
  const pipedriveApp = await build(t, database, {
    startWorker: false,
    config: sandboxConfig(sandbox, {
      PIPEDRIVE_SEARCH_RATE_LIMIT: '1',
      PIPEDRIVE_SEARCH_RATE_WINDOW_MS: String(SEARCH_WINDOW_MS)
    })
  })
  const account = pipedriveApp.pipedrive.forToken(sandbox.token)
  await findPersonByEmail(account, 'nobody@example.com')
  await findPersonByEmail(account, 'nobody.else@example.com')
  await t.rejects(getPerson(account.client, 987_654_321), 'a 404 is not retried')

  const text = await scrape(pipedriveApp)
  const requests = 'pipedrive_sync_pipedrive_requests_total'
  t.equal(sample(text, requests, { endpoint: 'persons.search', status: '200' }), 2)
  t.equal(sample(text, requests, { endpoint: 'persons.get', status: '404' }), 1)
  const durations = 'pipedrive_sync_pipedrive_request_duration_seconds'
  t.equal(sample(text, `${durations}_count`, { endpoint: 'persons.search' }), 2)
  t.ok(sample(text, `${durations}_sum`, { endpoint: 'persons.search' }) > 0)
  const waits = 'pipedrive_sync_pipedrive_rate_limit_wait_seconds'
  t.equal(sample(text, `${waits}_count`, { endpoint: 'persons.search' }), 2, 'every request, waiting or not')
  const waited = sample(text, `${waits}_sum`, { endpoint: 'persons.search' })
  t.ok(waited >= (SEARCH_WINDOW_MS / 1000) * 0.5, `the second search waited for the window (${waited} s)`)
  // The first had a free slot: what it waited (a budget kept in the database costs round trips) is
  // well under the window the second one waited for.
  t.equal(sample(text, `${waits}_bucket`, { endpoint: 'persons.search', le: '0.5' }), 1, 'the first did not')
  t.notOk(text.includes(sandbox.token), 'no token in any label')
})
