import { createHmac, timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import postgres from 'postgres'

/** The yardstick: verify the HMAC, one INSERT, answer. No schema check, no snapshot, no job. */
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const key = Buffer.from((process.env.WEBHOOK_SECRETS ?? '').slice('whsec_'.length), 'base64')
const sql = postgres(url, { max: 10, onnotice: () => {} })
const table = `bench_minimal_${process.pid}`
await sql.unsafe(`create table ${table} (webhook_id text primary key, payload jsonb not null)`)

const app = Fastify({ logger: false })
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
app.post('/webhooks/crm', async (request, reply) => {
  const body = request.body as Buffer
  const id = String(request.headers['webhook-id'])
  const timestamp = String(request.headers['webhook-timestamp'])
  const given = Buffer.from(String(request.headers['webhook-signature']).slice(3), 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest()
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.code(401).send()
  await sql`insert into ${sql(table)} (webhook_id, payload) values (${id}, ${body.toString('utf8')}::jsonb)
            on conflict do nothing`
  return reply.code(202).send({ accepted: true, id })
})
process.on('SIGTERM', async () => {
  await app.close()
  await sql.unsafe(`drop table if exists ${table}`)
  await sql.end()
  process.exit(0)
})
const address = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`READY ${address}\n`)
