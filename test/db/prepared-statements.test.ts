import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import { JOB_TYPES } from '../../src/jobs/job-types.js'
import { failJob } from '../../src/jobs/queue.js'
import { claimJobs } from '../../src/store/jobs.js'
import { build, contactEvent, postWebhook, testDatabase } from '../helper.js'

// pg_prepared_statements lists the statements prepared on the connection that reads it.
const postgres = Boolean(process.env.DATABASE_URL)

t.test(
  'the hot statements are prepared once per connection, drizzle naming them or not',
  { skip: postgres ? false : 'PostgreSQL only: PGlite runs in-process, postgres.js prepares nothing there' },
  async (t) => {
    // One connection: every statement below runs on the one the check reads.
    const database = await testDatabase(t, { maxConnections: 1 })
    const { db } = database
    const app = await build(t, database, { startWorker: false })
    for (let i = 0; i < 3; i++) t.equal((await postWebhook(app, contactEvent())).statusCode, 202)

    // The claim and a failure's transaction: statements drizzle sends without a name.
    const claimed = await claimJobs(db, { types: [JOB_TYPES.contactSync], limit: 2, leaseMs: 60_000 })
    t.equal(claimed.length, 2)
    for (const job of claimed)
      t.equal(await failJob(db, job, { error: 'test', dead: false, retryInMs: 60_000 }), 'retrying')

    const prepared = (
      await rows<{ statement: string }>(db, sql`select statement from pg_prepared_statements`)
    ).map((row) => row.statement)
    const count = (fragment: string) => prepared.filter((statement) => statement.includes(fragment)).length
    t.equal(count('insert into webhook_inbox'), 1, 'the intake statement (named), once')
    t.equal(count('for update of j skip locked'), 1, 'the claim, once')
    t.equal(count('delete from jobs where type'), 1, "the failure's first statement (in a transaction), once")
    t.equal(count('"failed_at" = now()'), 1, "the failure's update (in a transaction), once")
  }
)
