import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import { JOB_TYPES } from '../../src/jobs/job-types.js'
import { captureLog } from '../capture-log.js'
import {
  build,
  contactEvent,
  contactStatus,
  eventually,
  postWebhook,
  TEST_SECRET,
  testConfig,
  testDatabase,
  uid
} from '../helper.js'

const SECRET = 'personal-0c77de@example.com'
const { lines, logger } = captureLog()
const database = await testDatabase(t)
const app = await build(t, database, {
  config: testConfig({
    CRM_CALLBACK_URL: 'http://127.0.0.1:9/callbacks',
    CRM_CALLBACK_SECRET: TEST_SECRET,
    // One round is enough to look at: the next is a minute away.
    SYNC_BACKOFF_BASE_MS: '60000',
    SYNC_BACKOFF_MAX_MS: '60000'
  }),
  loggerInstance: logger,
  pollIntervalMs: 20,
  jobHandlers: {
    // A statement the database refuses, quoting the (personal) value it refused.
    [JOB_TYPES.contactSync]: async () => {
      await database.db.execute(sql`select ${SECRET}::integer`)
    }
  }
})

t.test(
  "a job's database failure: callers see its class, the log its details, no one its values",
  async (t) => {
    const event = contactEvent({ id: uid('c') })
    t.equal((await postWebhook(app, event)).statusCode, 202)
    const [job] = await eventually(() =>
      rows<{ last_error: string | null }>(
        app.db,
        sql`select last_error from jobs where entity_id = ${event.data.id} and last_error is not null`
      ).then((found) => (found.length > 0 ? found : undefined))
    )
    t.equal(job?.last_error, 'database error (22P02)', "the job's lastError")
    t.match(await contactStatus(app, event.data.id), {
      state: 'retrying',
      lastError: 'database error (22P02)'
    })
    const [callback] = await rows<{ payload: { data: Record<string, unknown> } }>(
      app.db,
      sql`select payload from callback_outbox
        where type = 'pipedrive.sync.failed' and payload -> 'data' ->> 'id' = ${event.data.id}`
    )
    t.match(callback?.payload.data, { entity: 'contact', error: 'database error (22P02)', dead: false })

    // The worker logs the failure after its round is stored: wait for the line, do not race it.
    const failure = await eventually(
      async () => lines.map((line) => JSON.parse(line)).find((line) => line.entityId === event.data.id),
      10_000,
      { what: "the job failure's log line" }
    )
    t.match(failure, { error: 'database error (22P02)', err: { code: '22P02' } }, 'the log line has the code')
    t.notMatch(lines.join(''), SECRET, 'no log line has the value')
    t.notMatch(lines.join(''), /select \$1/i, 'nor the query')
  }
)
