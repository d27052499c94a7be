import { sql } from 'drizzle-orm'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import {
  databaseErrorFacts,
  databaseErrorSummary,
  isDatabaseError,
  isDatabaseUnavailable,
  isRefusedValue,
  publicErrorMessage,
  sqlState
} from '../../src/db/database-errors.js'
import { testDatabase, uid } from '../helper.js'

const database = await testDatabase(t)
const SECRET = 'personal-4f1c9e@example.com'

/** The error a statement throws, through drizzle as the service runs it. */
async function failure(statement: ReturnType<typeof sql>): Promise<unknown> {
  try {
    await database.db.execute(statement)
  } catch (error) {
    return error
  }
  throw new Error('the statement did not fail')
}

t.test('a value the database refuses: its class and code, never the value', async (t) => {
  const error = await failure(sql`select ${SECRET}::integer`)
  t.ok(isDatabaseError(error))
  t.equal(sqlState(error), '22P02')
  t.ok(isRefusedValue(error), 'a data exception is the value’s fault')
  t.notOk(isDatabaseUnavailable(error))
  t.equal(databaseErrorSummary(error), 'database error (22P02)')
  t.equal(publicErrorMessage(error), 'database error (22P02)')
  t.equal(
    publicErrorMessage(new Error('plain', { cause: error })),
    'database error (22P02)',
    'found under a wrapper'
  )
  const facts = databaseErrorFacts(error)
  t.match(facts, {
    type: /^(PostgresError|DatabaseError)$/,
    code: '22P02',
    severity: 'ERROR',
    message: 'invalid input syntax for type integer: "…"'
  })
  t.notMatch(JSON.stringify(facts), SECRET)
  t.notMatch(JSON.stringify(facts), /select/i, 'no query text')
})

t.test('a constraint violation keeps the names of the table and the constraint, not the row', async (t) => {
  const email = `${uid('dup')}-${SECRET}`
  await database.db.execute(sql`insert into users (email) values (${email})`)
  const error = await failure(sql`insert into users (email) values (${email})`)
  t.equal(sqlState(error), '23505')
  t.notOk(isRefusedValue(error), 'a duplicate is not a value the database cannot store')
  const facts = databaseErrorFacts(error)
  t.match(facts, {
    code: '23505',
    table: 'users',
    constraint: 'users_email_unique',
    message: 'duplicate key value violates unique constraint "users_email_unique"'
  })
  t.notMatch(JSON.stringify(facts), SECRET, 'the detail (Key (email)=(…)) is left out')
})

t.test('errors about the statement keep the names it used', async (t) => {
  const error = await failure(sql`select * from no_such_table where x = ${SECRET}`)
  t.match(databaseErrorFacts(error), { code: '42P01', message: 'relation "no_such_table" does not exist' })
  t.notMatch(JSON.stringify(databaseErrorFacts(error)), SECRET)
})

t.test('no database to talk to: "database unavailable"', async (t) => {
  const unreachable = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none' })
  t.teardown(() => unreachable.close())
  let error: unknown
  try {
    await unreachable.db.execute(sql`select ${SECRET}`)
  } catch (caught) {
    error = caught
  }
  t.ok(isDatabaseUnavailable(error))
  t.equal(databaseErrorSummary(error), 'database unavailable')
  t.match(databaseErrorFacts(error), { code: 'ECONNREFUSED' })
  t.notMatch(JSON.stringify(databaseErrorFacts(error)), SECRET)
})

t.test('other errors are left as they are', async (t) => {
  t.notOk(isDatabaseError(new Error('boom')))
  t.equal(publicErrorMessage(new Error('boom')), 'boom')
  t.equal(publicErrorMessage('text'), 'text')
})
