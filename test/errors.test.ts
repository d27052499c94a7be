import { sql } from 'drizzle-orm'
import t from 'tap'
import { openDatabase } from '../src/db/database.js'
import { captureLog } from './capture-log.js'
import { build, contactEvent, postWebhook, TEST_OPERATOR_KEY, testDatabase, uid } from './helper.js'

const SECRET = 'Personal Person 5d02aa'
const { lines, logger } = captureLog()
const database = await testDatabase(t)
const app = await build(t, database, { startWorker: false, loggerInstance: logger })
const operator = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }

/** A trigger on contacts that runs `body` (PL/pgSQL) for the one contact id given. */
async function failContactInsert(t: { teardown(fn: () => unknown): void }, contactId: string, body: string) {
  const name = `fail_${contactId.replaceAll(/\W/g, '_')}`
  await app.db.execute(
    sql.raw(`create function ${name}() returns trigger language plpgsql as $$
      begin
        if new.id = '${contactId}' then ${body}; end if;
        return new;
      end $$`)
  )
  await app.db.execute(
    sql.raw(`create trigger ${name} before insert on contacts for each row execute function ${name}()`)
  )
  t.teardown(async () => {
    await app.db.execute(sql.raw(`drop trigger if exists ${name} on contacts`))
    await app.db.execute(sql.raw(`drop function if exists ${name}()`))
  })
}

function logged(from: number) {
  return lines.slice(from)
}

t.test(
  'a database failure on a webhook: 500, and its log line has neither the body nor the query',
  async (t) => {
    const event = contactEvent({ id: uid('c'), name: SECRET })
    await failContactInsert(t, event.data.id, "raise exception 'injected failure'")
    const from = lines.length
    const response = await postWebhook(app, event)
    t.equal(response.statusCode, 500)
    t.same(response.json(), {
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal Server Error'
    })
    const output = logged(from)
    t.ok(
      output.some((line) => JSON.parse(line).err?.code === 'P0001'),
      'the failure is logged with its code'
    )
    t.notMatch(output.join(''), SECRET, 'no bound value in the log')
    t.notMatch(output.join(''), /insert into/i, 'no query text in the log')
  }
)

t.test('a value the database refuses: 400, and neither the answer nor the log repeats it', async (t) => {
  const event = contactEvent({ id: uid('c'), name: SECRET })
  // PostgreSQL quotes the value it refused in its message.
  await failContactInsert(t, event.data.id, 'perform new.name::integer')
  const from = lines.length
  const response = await postWebhook(app, event)
  t.equal(response.statusCode, 400)
  t.same(response.json(), {
    statusCode: 400,
    error: 'Bad Request',
    message: 'a value in the request cannot be stored (database error 22P02)'
  })
  const output = logged(from)
  t.ok(output.some((line) => JSON.parse(line).err?.code === '22P02'))
  t.notMatch(output.join(''), SECRET)
  t.notMatch(response.body, SECRET)
})

t.test('an operator path the database cannot hold (NUL): 400, not 500', async (t) => {
  const from = lines.length
  for (const url of ['/api/contacts/a%00b/sync-status', '/api/activities/a%00b/sync-status']) {
    const response = await app.inject({ url, headers: operator })
    t.equal(response.statusCode, 400, url)
    t.same(response.json(), {
      success: false,
      error: 'a value in the request cannot be stored (database error 22021)'
    })
  }
  t.notMatch(logged(from).join(''), /select/i)
})

t.test('no database to talk to: 503 "database unavailable"', async (t) => {
  const unreachable = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none' })
  t.teardown(() => unreachable.close())
  const down = await build(t, unreachable, { startWorker: false, loggerInstance: logger })
  const webhook = await postWebhook(down, contactEvent({ name: SECRET }))
  t.equal(webhook.statusCode, 503)
  t.same(webhook.json(), { statusCode: 503, error: 'Service Unavailable', message: 'database unavailable' })
  const status = await down.inject({ url: '/api/contacts/c_1/sync-status', headers: operator })
  t.equal(status.statusCode, 503)
  t.match(status.json(), { message: 'database unavailable' })
})
