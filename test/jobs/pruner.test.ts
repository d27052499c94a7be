import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import { listFailures, retryDeadJobs } from '../../src/jobs/failures.js'
import { JOB_TYPES } from '../../src/jobs/job-types.js'
import { prune } from '../../src/jobs/pruner.js'
import { testDatabase, uid } from '../helper.js'

const database = await testDatabase(t)
const { db } = database

t.test('old finished jobs, inbox rows and settled callbacks go; everything else stays', async (t) => {
  const tag = uid('prune')
  const old = sql`now() - interval '20 days'`
  await db.execute(sql`insert into jobs (type, entity_id, serial_key, state, finished_at)
    values (${tag}, 'old-done', 'k1', 'done', ${old}), (${tag}, 'new-done', 'k2', 'done', now()),
           (${tag}, 'old-dead', 'k3', 'dead', null), (${tag}, 'old-pending', 'k4', 'pending', null)`)
  await db.execute(sql`update jobs set created_at = ${old} where type = ${tag}`)
  await db.execute(sql`insert into webhook_inbox (webhook_id, type, payload, received_at)
    values (${`${tag}-old`}, 'x', '{}'::jsonb, ${old}), (${`${tag}-new`}, 'x', '{}'::jsonb, now())`)
  await db.execute(sql`insert into callback_outbox (webhook_id, type, payload, delivered_at, gave_up_at)
    values (${`${tag}-delivered`}, 'x', '{}'::jsonb, ${old}, null),
           (${`${tag}-given-up`}, 'x', '{}'::jsonb, null, ${old}),
           (${`${tag}-pending`}, 'x', '{}'::jsonb, null, null)`)

  const counts = await prune(db, 14)
  t.ok(counts.jobs >= 1 && counts.inbox >= 1 && counts.callbacks >= 2)
  const jobs = await rows<{ entity_id: string }>(
    db,
    sql`select entity_id from jobs where type = ${tag} order by entity_id`
  )
  t.same(
    jobs.map((j) => j.entity_id),
    ['new-done', 'old-dead', 'old-pending'],
    'dead and waiting jobs are kept'
  )
  const inbox = await rows<{ webhook_id: string }>(
    db,
    sql`select webhook_id from webhook_inbox where webhook_id like ${`${tag}%`}`
  )
  t.same(
    inbox.map((r) => r.webhook_id),
    [`${tag}-new`]
  )
  const outbox = await rows<{ webhook_id: string }>(
    db,
    sql`select webhook_id from callback_outbox where webhook_id like ${`${tag}%`}`
  )
  t.same(
    outbox.map((r) => r.webhook_id),
    [`${tag}-pending`],
    'an undelivered callback is kept'
  )
})

t.test('pruning never changes what the operator sees: an older dead job stays history', async (t) => {
  const tag = uid('history')
  const type = JOB_TYPES.contactSync
  const at = (days: number) => sql`now() - ${days} * interval '1 day'`
  // Dead 21 days ago, then synced by a newer job (finished 20 days ago): history, not a failure.
  // Dead, replayed, and the replay done — all 20 days ago. And one job dead now: a failure.
  await db.execute(sql`insert into jobs (type, entity_id, serial_key, state, failed_at, finished_at, last_error)
    values (${type}, ${`${tag}-synced`}, ${`${tag}-synced`}, 'dead', ${at(21)}, null, 'Pipedrive answered 400'),
           (${type}, ${`${tag}-synced`}, ${`${tag}-synced`}, 'done', null, ${at(20)}, null),
           (${type}, ${`${tag}-replayed`}, ${`${tag}-replayed`}, 'replayed', ${at(21)}, ${at(20)}, 'Pipedrive answered 400'),
           (${type}, ${`${tag}-replayed`}, ${`${tag}-replayed`}, 'done', null, ${at(20)}, null),
           (${type}, ${`${tag}-dead`}, ${`${tag}-dead`}, 'dead', ${at(21)}, null, 'Pipedrive answered 400')`)
  const failures = async () =>
    (await listFailures(db, { limit: 100 })).items
      .filter((item) => item.id.startsWith(tag))
      .map((item) => `${item.id} ${item.state}`)
  const before = await failures()
  t.same(before, [`${tag}-dead dead`])

  await prune(db, 14)
  t.same(await failures(), before, 'the failures list is the same')
  const left = await rows<{ entity_id: string; state: string }>(
    db,
    sql`select entity_id, state from jobs where entity_id like ${`${tag}%`} order by id`
  )
  t.same(left, [{ entity_id: `${tag}-dead`, state: 'dead' }], 'history went with the jobs that superseded it')
  t.equal(await retryDeadJobs(db), 1, 'retry-dead replays the one failure, nothing from history')
})
