import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../../src/db/database.js'
import { build, postWebhook, testDatabase, uid } from '../../helper.js'

const database = await testDatabase(t)
const app = await build(t, database, { startWorker: false })

const deleted = (data: Record<string, unknown>) => ({
  type: 'contact.deleted',
  timestamp: new Date().toISOString(),
  data: { id: uid('c'), deletedAt: new Date().toISOString(), ...data }
})

t.test('contact.deleted: 400 naming each failing field, nothing stored', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ id: '' }, /data\.id/],
    [{ id: 42 }, /data\.id/],
    [{ deletedAt: undefined }, /data\.deletedAt/],
    [{ deletedAt: '2026-11-24T10:00:00' }, /data\.deletedAt/],
    [{ erase: 'yes' }, /data\.erase/]
  ]
  for (const [data, field] of cases) {
    const webhookId = uid('msg')
    const response = await postWebhook(app, deleted(data), { id: webhookId })
    t.equal(response.statusCode, 400, JSON.stringify(data))
    t.match(response.json().message, field)
    t.same(await rows(app.db, sql`select 1 from webhook_inbox where webhook_id = ${webhookId}`), [])
  }
  const noData = await postWebhook(app, { type: 'contact.deleted', timestamp: new Date().toISOString() })
  t.equal(noData.statusCode, 400)
  t.match(noData.json().message, /data/)
})

t.test('contact.deleted: 202, and 200 for the same webhook id again', async (t) => {
  const event = deleted({ erase: true })
  const webhookId = uid('msg')
  const first = await postWebhook(app, event, { id: webhookId })
  t.equal(first.statusCode, 202)
  t.same(first.json(), { accepted: true, id: webhookId })
  const again = await postWebhook(app, event, { id: webhookId })
  t.equal(again.statusCode, 200)
  t.match(again.json(), { duplicate: true })
})
