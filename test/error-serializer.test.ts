import { sql } from 'drizzle-orm'
import t from 'tap'
import { captureLog } from './capture-log.js'
import { testDatabase } from './helper.js'

const database = await testDatabase(t)
const SECRET = 'personal-77ab21@example.com'

async function failure(): Promise<Error> {
  try {
    await database.db.execute(sql`select ${SECRET}::integer`)
  } catch (error) {
    return error as Error
  }
  throw new Error('the statement did not fail')
}

t.test('a database error logs its class, code and a redacted message: no query, no value', async (t) => {
  const { lines, logger } = captureLog()
  const error = await failure()
  logger.error({ err: error }, 'request failed')
  logger.warn({ err: new Error('job round failed', { cause: error }) }, 'wrapped')
  logger.error({ err: error })
  logger.error(error)
  t.equal(lines.length, 4)
  for (const line of lines) {
    t.notMatch(line, SECRET, 'no bound value')
    t.notMatch(line, /select \$1/i, 'no query text')
  }
  const [direct, wrapped, noMessage, bare] = lines.map((line) => JSON.parse(line))
  t.match(direct.err, {
    code: '22P02',
    severity: 'ERROR',
    message: 'invalid input syntax for type integer: "…"',
    stack: /^(PostgresError|DatabaseError): invalid input syntax for type integer: "…"\n\s+at /
  })
  t.match(wrapped.err, { type: 'Error', message: 'job round failed', cause: { code: '22P02' } })
  t.equal(noMessage.msg, 'database error (22P02)', 'no message: the classified one, not the query')
  t.equal(bare.msg, 'database error (22P02)')
  t.match(bare.err, { code: '22P02' })
})

t.test('other errors keep their fields, minus those that hold what was sent', async (t) => {
  const { lines, logger } = captureLog()
  const error = Object.assign(new Error('Pipedrive answered 500'), {
    status: 500,
    query: `where email = ${SECRET}`,
    parameters: [SECRET]
  })
  logger.warn({ err: error }, 'call failed')
  const [line] = lines.map((entry) => JSON.parse(entry))
  t.match(line.err, { type: 'Error', message: 'Pipedrive answered 500', status: 500 })
  t.notMatch(lines[0], SECRET)
})
