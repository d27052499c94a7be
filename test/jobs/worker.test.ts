import { sql } from 'drizzle-orm'
import { pino } from 'pino'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import { backoffDelay, deferJob } from '../../src/jobs/queue.js'
import {
  DeferJobError,
  type JobHandler,
  PermanentJobError,
  Worker,
  type WorkerOptions
} from '../../src/jobs/worker.js'
import { leaseHeld } from '../../src/store/job-leases.js'
import { type ClaimedJob, claimJobs, completeJob, enqueue } from '../../src/store/jobs.js'
import { captureLog } from '../capture-log.js'
import { eventually, testDatabase, uid } from '../helper.js'

const database = await testDatabase(t)
const { db } = database
const log = pino({ level: 'silent' })
type TapTest = { teardown(fn: () => unknown): void }

function worker(t: TapTest, handlers: Record<string, JobHandler>, options: Partial<WorkerOptions> = {}) {
  const w = new Worker({
    db,
    handlers,
    log,
    leaseMs: 5_000,
    maxAttempts: 3,
    backoffBaseMs: 60_000,
    backoffMaxMs: 3_600_000,
    pollIntervalMs: 20,
    random: () => 0,
    ...options
  })
  t.teardown(() => w.stop(1_000))
  return w
}

interface JobRow {
  state: string
  attempts: number
  last_error: string | null
  delay_ms: number | null
}
const jobRow = async (type: string, entityId: string) =>
  (
    await rows<JobRow>(
      db,
      sql`select state, attempts, last_error,
            round(extract(epoch from (run_at - failed_at)) * 1000)::int as delay_ms
          from jobs where type = ${type} and entity_id = ${entityId} order by id desc limit 1`
    )
  )[0]
const statesOf = async (type: string) =>
  rows<{ state: string; n: number }>(
    db,
    sql`select state, count(*)::int as n from jobs where type = ${type} group by state order by state`
  )

t.test('backoff doubles from the base, is capped, and jitter only shortens it', async (t) => {
  t.same(
    [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelay(attempt, 30_000, 3_600_000, () => 0)),
    [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000]
  )
  t.equal(
    backoffDelay(3, 1_000, 3_000, () => 0),
    3_000,
    'capped at the maximum'
  )
  t.equal(
    backoffDelay(1, 1_000, 3_000, () => 1),
    800,
    'at most 20 % jitter, downwards'
  )
  t.equal(
    backoffDelay(100, 1_000, 3_000, () => 0),
    3_000,
    'huge attempt counts stay finite'
  )
})

t.test('concurrent claimers never take the same job', async (t) => {
  const type = uid('claim')
  for (let i = 0; i < 60; i++) await enqueue(db, { type, entityId: `e${i}`, serialKey: uid('k') })
  const batches = await Promise.all(
    Array.from({ length: 6 }, () => claimJobs(db, { types: [type], limit: 15, leaseMs: 5_000 }))
  )
  const ids = batches.flat().map((job) => job.id)
  t.equal(ids.length, 60, 'every job claimed once in all')
  t.equal(new Set(ids).size, 60, 'no job claimed twice')
})

t.test('two workers share 200 jobs: each runs exactly once', async (t) => {
  const type = uid('share')
  const runs = new Map<string, number>()
  const handler: JobHandler = async (job) => {
    runs.set(job.entityId, (runs.get(job.entityId) ?? 0) + 1)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  for (let i = 0; i < 200; i++) await enqueue(db, { type, entityId: `e${i}`, serialKey: uid('k') })
  const a = worker(t, { [type]: handler })
  const b = worker(t, { [type]: handler })
  a.start()
  b.start()
  await eventually(
    async () => (await statesOf(type)).every((s) => s.state === 'done') && runs.size === 200,
    30_000
  )
  t.equal(runs.size, 200)
  t.ok(
    [...runs.values()].every((count) => count === 1),
    'no job ran twice'
  )
})

t.test('jobs of one contact never overlap and run in order, across two worker loops', async (t) => {
  const type = uid('serial')
  const keys = Array.from({ length: 8 }, () => uid('contact'))
  const active = new Map<string, number>()
  const order = new Map<string, number[]>()
  let maxActivePerKey = 0
  let maxActiveOverall = 0
  let activeOverall = 0
  const handler: JobHandler = async (job) => {
    const now = (active.get(job.serialKey) ?? 0) + 1
    active.set(job.serialKey, now)
    activeOverall++
    maxActivePerKey = Math.max(maxActivePerKey, now)
    maxActiveOverall = Math.max(maxActiveOverall, activeOverall)
    order.set(job.serialKey, [...(order.get(job.serialKey) ?? []), Number(job.entityId.split(':')[1])])
    await new Promise((resolve) => setTimeout(resolve, 5))
    active.set(job.serialKey, now - 1)
    activeOverall--
  }
  for (let i = 0; i < 5; i++) {
    for (const key of keys) await enqueue(db, { type, entityId: `${key}:${i}`, serialKey: key })
  }
  const a = worker(t, { [type]: handler })
  const b = worker(t, { [type]: handler })
  a.start()
  b.start()
  await eventually(
    async () => (await statesOf(type)).every((s) => s.state === 'done') && order.size === 8,
    30_000
  )
  t.equal(maxActivePerKey, 1, 'never two jobs of one contact at once')
  t.ok(maxActiveOverall > 1, 'different contacts do run in parallel')
  for (const key of keys) t.same(order.get(key), [0, 1, 2, 3, 4], `jobs of ${key} ran in order`)
})

t.test('a job whose process died runs again after its lease; the old claim cannot finish it', async (t) => {
  const type = uid('lease')
  const entityId = uid('e')
  await enqueue(db, { type, entityId, serialKey: entityId })
  const [dead] = await claimJobs(db, { types: [type], limit: 1, leaseMs: 300 })
  t.ok(dead, 'claimed by a process that then dies')
  const seen: ClaimedJob[] = []
  const w = worker(t, {
    [type]: async (job) => {
      seen.push(job)
    }
  })
  w.start()
  await eventually(async () => (await jobRow(type, entityId))?.state === 'done', 10_000)
  t.equal(seen.length, 1)
  t.equal(seen[0]?.attempts, 2, 'the lost round counts as an attempt')
  t.equal(await completeJob(db, dead as ClaimedJob), false, 'the stale claim is refused')
})

t.test('a long job keeps its lease: nobody else takes it meanwhile', async (t) => {
  const type = uid('heartbeat')
  const entityId = uid('e')
  let runs = 0
  const handler: JobHandler = async () => {
    runs++
    await new Promise((resolve) => setTimeout(resolve, 3_000))
  }
  await enqueue(db, { type, entityId, serialKey: entityId })
  const a = worker(t, { [type]: handler }, { leaseMs: 1_000 })
  const b = worker(t, { [type]: handler }, { leaseMs: 1_000 })
  a.start()
  b.start()
  await eventually(async () => (await jobRow(type, entityId))?.state === 'done', 10_000)
  t.equal(runs, 1)
})

t.test('a failed round is rescheduled with backoff, then dead after the last attempt', async (t) => {
  const type = uid('fail')
  const entityId = uid('e')
  let calls = 0
  const w = worker(t, {
    [type]: async () => {
      calls++
      throw new Error(`Pipedrive answered 503 (call ${calls})`)
    }
  })
  await enqueue(db, { type, entityId, serialKey: entityId })
  w.start()
  const delays: number[] = []
  for (let round = 1; round <= 2; round++) {
    const row = await eventually(async () => {
      const r = await jobRow(type, entityId)
      return r?.state === 'retrying' && r.attempts === round ? r : undefined
    })
    t.equal(row.last_error, `Pipedrive answered 503 (call ${round})`)
    delays.push(row.delay_ms ?? -1)
    // Make the retry due now instead of waiting the real backoff.
    await db.execute(sql`update jobs set run_at = now() where type = ${type} and entity_id = ${entityId}`)
    w.notify()
  }
  t.same(delays, [60_000, 120_000], 'doubling from SYNC_BACKOFF_BASE_MS')
  const dead = await eventually(async () => {
    const r = await jobRow(type, entityId)
    return r?.state === 'dead' ? r : undefined
  })
  t.equal(dead.attempts, 3, 'dead after SYNC_MAX_ATTEMPTS rounds')
  t.equal(calls, 3)
})

t.test('a permanent error makes the job dead at once', async (t) => {
  const type = uid('permanent')
  const entityId = uid('e')
  const w = worker(t, {
    [type]: async () => {
      throw new PermanentJobError('Pipedrive answered 400: name is required')
    }
  })
  await enqueue(db, { type, entityId, serialKey: entityId })
  w.start()
  const row = await eventually(async () => {
    const r = await jobRow(type, entityId)
    return r?.state === 'dead' ? r : undefined
  })
  t.equal(row.attempts, 1)
  t.equal(row.last_error, 'Pipedrive answered 400: name is required')
})

t.test('an event arriving while its job runs is folded into the retry', async (t) => {
  const type = uid('fold')
  const entityId = uid('e')
  const w = worker(t, {
    [type]: async () => {
      await enqueue(db, { type, entityId, serialKey: entityId })
      throw new Error('temporary')
    }
  })
  await enqueue(db, { type, entityId, serialKey: entityId })
  w.start()
  await eventually(async () => (await jobRow(type, entityId))?.state === 'retrying')
  const waiting = await rows<{ state: string }>(
    db,
    sql`select state from jobs where type = ${type} and entity_id = ${entityId}`
  )
  t.same(waiting, [{ state: 'retrying' }], 'one waiting job, not two')
})

t.test('a new job starts at once on notify, without waiting for the poll', async (t) => {
  const type = uid('wake')
  const entityId = uid('e')
  let ran = false
  const w = worker(
    t,
    {
      [type]: async () => {
        ran = true
      }
    },
    { pollIntervalMs: 600_000 }
  )
  w.start()
  await new Promise((resolve) => setTimeout(resolve, 100))
  await enqueue(db, { type, entityId, serialKey: entityId })
  w.notify()
  await eventually(async () => ran, 5_000)
  t.ok(ran, 'ran long before the 10-minute poll')
})

t.test('stop() finishes in-flight work and claims nothing more', async (t) => {
  const type = uid('stop')
  const first = uid('e')
  const second = uid('e')
  let started = false
  const w = worker(t, {
    [type]: async () => {
      started = true
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  })
  await enqueue(db, { type, entityId: first, serialKey: first })
  w.start()
  await eventually(async () => started)
  await w.stop(5_000)
  t.equal((await jobRow(type, first))?.state, 'done', 'the in-flight job finished')
  await enqueue(db, { type, entityId: second, serialKey: second })
  w.notify()
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal((await jobRow(type, second))?.state, 'pending', 'nothing claimed after stop')
})

/** A job row as another process (or an operator's replay) left it, with a chosen id order. */
async function insertJob(row: {
  type: string
  entityId: string
  serialKey: string
  state: string
  lease?: string
}) {
  const [inserted] = await rows<{ id: string }>(
    db,
    sql`insert into jobs (type, entity_id, serial_key, state, attempts, lock_token, locked_until, started_at)
        values (${row.type}, ${row.entityId}, ${row.serialKey}, ${row.state},
          ${row.state === 'running' ? 1 : 0},
          ${row.state === 'running' ? sql`gen_random_uuid()` : sql`null`},
          ${row.lease ? sql`now() + ${row.lease}::interval` : sql`null`},
          ${row.state === 'running' ? sql`now()` : sql`null`})
        returning id::text as id`
  )
  return inserted?.id as string
}

t.test('a key with a running job is never claimed, even when an older job of that key waits', async (t) => {
  const type = uid('busykey')
  const contact = uid('contact')
  const other = uid('contact')
  // An old job queued again while a newer one of the same contact runs: the older id waits.
  await insertJob({ type, entityId: `${contact}:old`, serialKey: contact, state: 'pending' })
  await insertJob({
    type,
    entityId: `${contact}:new`,
    serialKey: contact,
    state: 'running',
    lease: '1 minute'
  })
  await insertJob({ type, entityId: other, serialKey: other, state: 'pending' })
  const claimed = await claimJobs(db, { types: [type], limit: 10, leaseMs: 5_000 })
  t.same(
    claimed.map((job) => job.entityId),
    [other],
    'the other contact is claimed; nothing of the busy one (and the claim does not fail)'
  )
})

t.test('an expired running job is claimed again before an older waiting job of its key', async (t) => {
  const type = uid('expiredkey')
  const contact = uid('contact')
  await insertJob({ type, entityId: `${contact}:old`, serialKey: contact, state: 'pending' })
  await insertJob({
    type,
    entityId: `${contact}:new`,
    serialKey: contact,
    state: 'running',
    lease: '-1 second'
  })
  const [again, ...rest] = await claimJobs(db, { types: [type], limit: 10, leaseMs: 5_000 })
  t.equal(again?.entityId, `${contact}:new`, 'the job whose process died runs again')
  t.same(rest, [], 'and nothing else of its key')
  t.ok(await completeJob(db, again as ClaimedJob))
  const [next] = await claimJobs(db, { types: [type], limit: 10, leaseMs: 5_000 })
  t.equal(next?.entityId, `${contact}:old`, 'then the waiting one')
})

t.test('a deferred job gives its slot back and runs later, its round not counted, no failure', async (t) => {
  const type = uid('defer')
  const paused = uid('e')
  const other = uid('e')
  const ran: string[] = []
  const failures: unknown[] = []
  let deferrals = 0
  const w = worker(
    t,
    {
      [type]: async (job) => {
        // Long enough that the row is read before the deferral ends, on a loaded machine too.
        if (job.entityId === paused && deferrals++ === 0) throw new DeferJobError('token paused', 3_000)
        ran.push(job.entityId)
      }
    },
    {
      concurrency: 1,
      onFailed: (_job, outcome) => void failures.push(outcome),
      reportFailure: async () => void failures.push('reported')
    }
  )
  await enqueue(db, { type, entityId: paused, serialKey: paused })
  await enqueue(db, { type, entityId: other, serialKey: other })
  w.start()
  await eventually(async () => ran.includes(other), 2_500)
  t.notOk(ran.includes(paused), 'the other job ran in the only slot while the deferred one waited')
  const waiting = await rows<{
    state: string
    attempts: number
    last_error: string | null
    due_in_ms: number
  }>(
    db,
    sql`select state, attempts, last_error, extract(epoch from run_at - now()) * 1000 as due_in_ms
        from jobs where type = ${type} and entity_id = ${paused}`
  )
  t.match(waiting, [{ state: 'pending', attempts: 0, last_error: null }], 'waiting again, attempts as before')
  t.ok(Number(waiting[0]?.due_in_ms) > 0, 'due when the deferral ends, not at once')
  await eventually(async () => (await jobRow(type, paused))?.state === 'done', 10_000)
  t.equal((await jobRow(type, paused))?.attempts, 1, 'one round counted: the one that ran')
  t.same(failures, [], 'no failure recorded or reported')
})

t.test('a retrying job that is deferred stays retrying, with its error and attempts', async (t) => {
  const type = uid('deferretry')
  const entityId = uid('e')
  await db.execute(sql`insert into jobs (type, entity_id, serial_key, state, attempts, failed_at, last_error)
    values (${type}, ${entityId}, ${entityId}, 'retrying', 2, now(), 'Pipedrive answered 503')`)
  const [job] = await claimJobs(db, { types: [type], limit: 1, leaseMs: 5_000 })
  t.equal(job?.attempts, 3)
  t.ok(await deferJob(db, job as ClaimedJob, 60_000))
  t.match(await jobRow(type, entityId), {
    state: 'retrying',
    attempts: 2,
    last_error: 'Pipedrive answered 503'
  })
  t.notOk(await deferJob(db, job as ClaimedJob, 60_000), 'a stale claim cannot defer it again')
})

t.test('a job whose lease was taken over mid-run writes nothing and says so in the log', async (t) => {
  await db.execute(sql`create table if not exists lease_probe (job_id text not null)`)
  const type = uid('takeover')
  const entityId = uid('e')
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let started: ClaimedJob | undefined
  let wrote: number | undefined
  const { logger, records } = captureLog()
  const w = worker(
    t,
    {
      [type]: async (job) => {
        started = job
        await gate
        // A final write of the round, fenced by the job's claim.
        const inserted = await rows(
          db,
          sql`insert into lease_probe (job_id) select ${job.id} where ${leaseHeld({ jobId: job.id, lockToken: job.lockToken })}
              returning job_id`
        )
        wrote = inserted.length
      }
    },
    { log: logger }
  )
  await enqueue(db, { type, entityId, serialKey: entityId })
  w.start()
  const job = await eventually(async () => started)
  // Another run took the job over (its lease had lapsed): a new lock token.
  await db.execute(sql`update jobs set lock_token = gen_random_uuid() where id = ${job.id}::bigint`)
  release()
  await eventually(async () =>
    records().some((line) => line.jobId === job.id && /lost its lease/.test(line.msg))
  )
  t.equal(wrote, 0, 'the fenced write stored nothing')
  const probes = await rows(db, sql`select 1 from lease_probe where job_id = ${job.id}`)
  t.equal(probes.length, 0)
  t.equal((await jobRow(type, entityId))?.state, 'running', 'not completed by the run that lost it')
})

t.test('the work renews its own leases with the job heartbeat, until it stops them', async (t) => {
  const type = uid('renew')
  const entityId = uid('e')
  let renewals = 0
  let renewalsWhenStopped = 0
  const w = worker(
    t,
    {
      [type]: async (_job, _signal, lease) => {
        const stop = lease.renewWithJob(async () => {
          renewals++
        })
        await new Promise((resolve) => setTimeout(resolve, 700))
        stop()
        renewalsWhenStopped = renewals
        await new Promise((resolve) => setTimeout(resolve, 400))
      }
    },
    { leaseMs: 300 }
  )
  await enqueue(db, { type, entityId, serialKey: entityId })
  w.start()
  await eventually(async () => (await jobRow(type, entityId))?.state === 'done', 10_000)
  t.ok(renewalsWhenStopped >= 3, `renewed every 100 ms while the work ran: ${renewalsWhenStopped}`)
  t.equal(renewals, renewalsWhenStopped, 'no renewal after it was stopped')
})
