import { sql } from 'drizzle-orm'
import { pino } from 'pino'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import { type JobHandler, Worker } from '../../src/jobs/worker.js'
import { getCurrentUser } from '../../src/pipedrive/api.js'
import { enqueue } from '../../src/store/jobs.js'
import { toJobError } from '../../src/sync/handlers.js'
import { build, eventually, sandboxConfig, testDatabase, testSandbox, uid } from '../helper.js'

/**
 * One token paused by Pipedrive for longer than a call should wait must not hold the worker's
 * slots: the service's own Pipedrive wiring (shared rate budget, client) with a worker of two slots.
 */
const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const app = await build(t, database, { startWorker: false, config: sandboxConfig(sandbox) })
const pausedToken = sandbox.token
const otherToken = sandbox.tokens['sales@crm.example'] as string
const RETRY_AFTER_MS = 10_000

t.test('a long pause of one token gives the slots back: other work runs at once', async (t) => {
  const type = uid('pause')
  const finished = new Map<string, number>()
  const failures: unknown[] = []
  // Jobs name their token: p… the paused one, o… the other one, n… no Pipedrive call at all.
  const handler: JobHandler = async (job, signal) => {
    try {
      if (!job.entityId.startsWith('n')) {
        const token = job.entityId.startsWith('p') ? pausedToken : otherToken
        await getCurrentUser(app.pipedrive.forToken(token).client, { signal })
      }
    } catch (error) {
      throw toJobError(error)
    }
    finished.set(job.entityId, Date.now())
  }
  const worker = new Worker({
    db: app.db,
    handlers: { [type]: handler },
    log: pino({ level: 'silent' }),
    leaseMs: 30_000,
    maxAttempts: 5,
    backoffBaseMs: 60_000,
    backoffMaxMs: 60_000,
    concurrency: 2,
    pollIntervalMs: 20,
    onFailed: (job, outcome) => void failures.push(`${job.entityId} ${outcome}`),
    reportFailure: async (_tx, job) => void failures.push(`${job.entityId} reported`)
  })
  t.teardown(() => worker.stop(1_000))

  // Connections, slot rows and statements ready, so what follows measures the queue, not a cold start.
  for (const token of [pausedToken, otherToken]) await getCurrentUser(app.pipedrive.forToken(token).client)
  sandbox.clearRequests()
  // The paused token's next request is refused with a retry-after well above the in-line limit.
  sandbox.faults.set({
    failNext: { count: 1, status: 429, retryAfterSeconds: RETRY_AFTER_MS / 1000, path: '/api/v1/users/me' }
  })
  const paused = ['p1', 'p2', 'p3', 'p4'].map((id) => `${id}-${uid('e')}`)
  const others = [`o-${uid('e')}`, `n-${uid('e')}`]
  for (const entityId of [...paused, ...others])
    await enqueue(app.db, { type, entityId, serialKey: entityId })
  worker.start()

  await eventually(async () => others.every((id) => finished.has(id)), 15_000)
  // The other jobs can only start once a paused job gave its slot back, after the refusal.
  const refused = sandbox.requests.find((request) => request.status === 429)
  t.ok(refused, 'Pipedrive did refuse a request')
  const pauseStart = Date.parse(refused?.at ?? '')
  const pauseEnd = pauseStart + RETRY_AFTER_MS
  // Measured from the refusal, not from the worker's start: a loaded machine's slow start-up is
  // not part of the pause. Waiting out the pause inside the two slots would hold them for the
  // whole retry-after; giving the slots back lets the other jobs run in its first part (the
  // paused jobs' deferrals and the claims before them take seconds on a loaded machine).
  const othersMs = Math.max(...others.map((id) => (finished.get(id) as number) - pauseStart))
  t.ok(
    othersMs < RETRY_AFTER_MS * 0.7,
    `the other token's job and the job without a call ran long before the pause ended (${othersMs} ms after it began)`
  )

  await eventually(async () => paused.every((id) => finished.has(id)), 30_000)
  // One request may have been on its way when the 429 came (granted before the pause was stored).
  const afterPause = paused.filter((id) => (finished.get(id) as number) >= pauseEnd - 100)
  t.ok(
    afterPause.length >= paused.length - 1,
    `the paused token's jobs ran when the pause ended (${afterPause.length} of ${paused.length})`
  )
  // A handler returns before the worker writes its round's outcome: read the table once no round
  // is still running, so what follows is every job's outcome, not the moment before it is written.
  const jobs = await eventually(
    async () => {
      const found = await rows<{ entity_id: string; state: string; attempts: number }>(
        app.db,
        sql`select entity_id, state, attempts from jobs where type = ${type} order by id`
      )
      return found.every((job) => job.state !== 'running') && found
    },
    10_000,
    { what: 'every round the handlers finished written to the jobs table' }
  )
  t.same(
    jobs.map((job) => `${job.entity_id} ${job.state} ${job.attempts}`),
    [...paused, ...others].map((id) => `${id} done 1`),
    'every job done, each with one round counted: waiting for the pause used no attempt'
  )
  t.same(failures, [], 'no failed round, no failure callback')
})
