import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../../src/db/database.js'
import { JOB_TYPES } from '../../../src/jobs/job-types.js'
import { QUEUE_STATS_MAX_AGE_MS } from '../../../src/jobs/queue-stats.js'
import { PermanentJobError } from '../../../src/jobs/worker.js'
import {
  activityEvent,
  build,
  contactEvent,
  eventually,
  postWebhook,
  TEST_OPERATOR_KEY,
  testConfig,
  testDatabase,
  uid
} from '../../helper.js'

const database = await testDatabase(t)
const runs = new Map<string, number>()
const behaviour = new Map<string, () => Promise<void>>()
const count = (entityId: string) => {
  runs.set(entityId, (runs.get(entityId) ?? 0) + 1)
  return behaviour.get(entityId)?.()
}
let clockSkewMs = 0
const app = await build(t, database, {
  now: () => Date.now() + clockSkewMs,
  config: testConfig({ SYNC_BACKOFF_BASE_MS: '60000', OPERATOR_RATE_LIMIT: '10000' }),
  pollIntervalMs: 20,
  jobHandlers: {
    [JOB_TYPES.contactSync]: async (job) => count(job.entityId),
    [JOB_TYPES.activityReplicate]: async (job) => count(job.entityId)
  }
})
type Assert = Pick<typeof t, 'equal' | 'ok' | 'notOk'>
const headers = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
const api = (method: 'GET' | 'POST', url: string) => app.inject({ method, url, headers })
const jobsOf = (entityId: string) =>
  rows<{ id: string; state: string; attempts: number }>(
    app.db,
    sql`select id::text as id, state, attempts from jobs where entity_id = ${entityId} order by jobs.id`
  )
const latestJob = async (entityId: string) => (await jobsOf(entityId)).at(-1)
const failureIds = async () =>
  (await api('GET', '/api/sync/failures?limit=100')).json().items.map((item: { id: string }) => item.id)

/**
 * One contact with a dead activity (A1) and a newer activity (A2) whose job is running: the
 * situation in which reviving A1's old row made it its contact's head, and claiming it collided
 * with A2 — stopping the claims of every contact.
 */
async function deadAndRunning(t: Assert) {
  const contactId = uid('c')
  const a1 = activityEvent({ contactId }).data.id as string
  const a2 = activityEvent({ contactId }).data.id as string
  let a1Fails = true
  behaviour.set(a1, async () => {
    if (!a1Fails) return
    a1Fails = false
    throw new PermanentJobError('Pipedrive answered 400 to POST /api/v2/activities: bad type')
  })
  let releaseA2: () => void = () => {}
  const a2Gate = new Promise<void>((resolve) => {
    releaseA2 = resolve
  })
  behaviour.set(a2, () => a2Gate)
  t.equal((await postWebhook(app, activityEvent({ id: a1, contactId }))).statusCode, 202)
  await eventually(async () => (await latestJob(a1))?.state === 'dead')
  t.equal((await postWebhook(app, activityEvent({ id: a2, contactId }))).statusCode, 202)
  await eventually(async () => (await latestJob(a2))?.state === 'running')
  const deadJobId = (await latestJob(a1))?.id as string
  return { a1, a2, deadJobId, releaseA2 }
}

/** An unrelated contact syncs at once while A2 runs; then A2 ends, and A1 runs exactly once more. */
async function queueKeepsMoving(
  t: Assert,
  { a1, a2, releaseA2 }: { a1: string; a2: string; releaseA2: () => void }
) {
  const unrelated = contactEvent().data.id
  const sentAt = Date.now()
  t.equal((await postWebhook(app, contactEvent({ id: unrelated }))).statusCode, 202)
  await eventually(async () => (await latestJob(unrelated))?.state === 'done', 3_000)
  t.ok(Date.now() - sentAt < 3_000, 'an unrelated contact synced at once')
  t.equal((await latestJob(a2))?.state, 'running', 'while A2 was still running')
  t.equal(runs.get(a1), 1, 'A1 waits for A2 (one contact, one job at a time)')
  releaseA2()
  await eventually(
    async () => (await latestJob(a1))?.state === 'done' && (await latestJob(a2))?.state === 'done'
  )
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(runs.get(unrelated), 1, 'the unrelated contact ran once')
  t.equal(runs.get(a2), 1, 'A2 ran once')
  t.equal(runs.get(a1), 2, 'A1 ran once more after its replay')
  t.notOk((await failureIds()).includes(a1), 'A1 is no longer a failure')
}

t.test('retry-dead, then retrying the same job: the queue keeps moving, A1 runs once', async (t) => {
  const case_ = await deadAndRunning(t)
  const replayed = await api('POST', '/api/sync/retry-dead')
  t.equal(replayed.statusCode, 202)
  t.same(replayed.json(), { success: true, queued: 1 })
  const fresh = (await latestJob(case_.a1))?.id
  t.not(fresh, case_.deadJobId, 'the replay is a new job, queued behind A2')
  const again = await api('POST', `/api/sync/jobs/${case_.deadJobId}/retry`)
  t.equal(again.statusCode, 409, 'the old job was replayed already: nothing is queued twice')
  t.match(again.json(), { success: false, error: `job ${case_.deadJobId} was replayed as job ${fresh}` })
  t.same((await api('POST', '/api/sync/retry-dead')).json(), { success: true, queued: 0 })
  await queueKeepsMoving(t, case_)
  t.same(
    (await jobsOf(case_.a1)).map((job) => job.state),
    ['replayed', 'done'],
    'the dead row stays as history, marked replayed'
  )
})

t.test('retrying one job, then retry-dead: the same', async (t) => {
  const case_ = await deadAndRunning(t)
  const replayed = await api('POST', `/api/sync/jobs/${case_.deadJobId}/retry`)
  t.equal(replayed.statusCode, 202)
  t.same(replayed.json(), { success: true, queued: 1 })
  t.same((await api('POST', '/api/sync/retry-dead')).json(), { success: true, queued: 0 })
  t.equal((await api('POST', `/api/sync/jobs/${case_.deadJobId}/retry`)).statusCode, 409)
  await queueKeepsMoving(t, case_)
  const [old, fresh] = await jobsOf(case_.a1)
  t.equal(old?.state, 'replayed')
  t.equal(fresh?.attempts, 1, 'the replay started with a fresh round budget')
})

t.test('a dead job counts as dead until it is replayed', async (t) => {
  const id = uid('c')
  behaviour.set(id, async () => {
    if ((runs.get(id) ?? 0) === 1) throw new PermanentJobError('Pipedrive answered 400: bad field')
  })
  await postWebhook(app, contactEvent({ id }))
  await eventually(async () => (await latestJob(id))?.state === 'dead')
  const deadCount = async () =>
    Number(
      /^pipedrive_sync_jobs\{state="dead"\} (\d+)$/m.exec((await app.inject({ url: '/metrics' })).body)?.[1]
    )
  const before = await deadCount()
  t.ok(before >= 1)
  const job = await latestJob(id)
  t.equal((await api('POST', `/api/sync/jobs/${job?.id}/retry`)).statusCode, 202)
  await eventually(async () => (await latestJob(id))?.state === 'done')
  clockSkewMs += QUEUE_STATS_MAX_AGE_MS // the scrape reads the table again
  t.equal(await deadCount(), before - 1)
  t.pass('the replayed job is not counted as dead any more')
})
