import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../../src/db/database.js'
import { JOB_TYPES } from '../../../src/jobs/job-types.js'
import type { JobHandler } from '../../../src/jobs/worker.js'
import type { ClaimedJob } from '../../../src/store/jobs.js'
import { syncHandlers } from '../../../src/sync/handlers.js'
import { heldLease } from '../../held-lease.js'
import {
  activityEvent,
  build,
  contactEvent,
  contactStatus,
  postWebhook,
  signedHeaders,
  testDatabase,
  uid,
  vectors
} from '../../helper.js'

const database = await testDatabase(t)
const app = await build(t, database, { startWorker: false })

const countInbox = async (webhookId: string) =>
  (
    await rows<{ n: number }>(
      app.db,
      sql`select count(*)::int as n from webhook_inbox where webhook_id = ${webhookId}`
    )
  )[0]?.n
const jobsFor = (entityId: string) =>
  rows<{ type: string; state: string; serial_key: string }>(
    app.db,
    sql`select type, state, serial_key from jobs where entity_id = ${entityId}`
  )
const contact = async (id: string) =>
  (await rows<Record<string, unknown>>(app.db, sql`select * from contacts where id = ${id}`))[0]

t.test('the Standard Webhooks vectors, through HTTP at their own clock', async (t) => {
  for (const vector of vectors) {
    const vectorApp = await build(t, database, { startWorker: false, now: () => vector.timestamp * 1000 })
    const response = await vectorApp.inject({
      method: 'POST',
      url: '/webhooks/crm',
      headers: {
        'content-type': 'application/json',
        'webhook-id': vector.id,
        'webhook-timestamp': String(vector.timestamp),
        'webhook-signature': vector.signature
      },
      body: vector.body
    })
    // A valid signature on a body that is not an event gets past 401 to the schema check (400).
    const expected = !vector.valid ? 401 : vector.body.includes('contact.updated') ? 202 : 400
    t.equal(response.statusCode, expected, vector.description)
  }
  t.equal(await countInbox('msg_contact_1'), 1, 'the valid contact vector is stored')
})

t.test('a signed contact.updated is stored with its job before the 202', async (t) => {
  const event = contactEvent({ pipedrivePersonId: null })
  const response = await postWebhook(app, event, { id: 'msg_store_1' })
  t.equal(response.statusCode, 202)
  t.same(response.json(), { accepted: true, id: 'msg_store_1' })
  t.match(await contact(event.data.id), {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    warmness_score: 4,
    owner_email: 'owner@crm.example',
    organization_id: event.data.organization.id
  })
  t.same(await jobsFor(event.data.id), [
    { type: 'contact.sync', state: 'pending', serial_key: event.data.id }
  ])
  const [org] = await rows<{ name: string; industry: string; country: string }>(
    app.db,
    sql`select name, industry, country from organizations where id = ${event.data.organization.id}`
  )
  t.same(org, { name: 'Analytical Engines Ltd', industry: 'Computing', country: 'GB' })
})

t.test('401 for missing headers, stale or future timestamps and a wrong secret', async (t) => {
  const body = JSON.stringify(contactEvent())
  const now = Math.floor(Date.now() / 1000)
  const cases: Array<[string, Record<string, string>]> = [
    ['stale', signedHeaders(body, { timestamp: now - 301 })],
    ['future', signedHeaders(body, { timestamp: now + 301 })],
    ['wrong secret', signedHeaders(body, { secret: 'whsec_d3Jvbmctc2VjcmV0LWZvci10ZXN0cw==' })],
    ['no signature', { ...signedHeaders(body), 'webhook-signature': '' }],
    ['id over 256 chars', signedHeaders(body, { id: 'x'.repeat(257) })]
  ]
  for (const [name, headers] of cases) {
    const response = await app.inject({ method: 'POST', url: '/webhooks/crm', headers, body })
    t.equal(response.statusCode, 401, name)
    t.match(response.json(), { statusCode: 401, error: 'Unauthorized', message: String }, name)
  }
  const headers: Record<string, string> = { ...signedHeaders(body) }
  delete headers['webhook-id']
  const missing = await app.inject({ method: 'POST', url: '/webhooks/crm', headers, body })
  t.equal(missing.statusCode, 401)
  t.match(missing.json().message, /missing webhook-id/)
})

t.test('schema violations: 400 naming every failing field path, nothing stored', async (t) => {
  const event = contactEvent({
    warmnessScore: -1,
    updatedAt: '2026-11-24T10:00:00',
    owner: { id: 'u', email: 'nope' }
  })
  const response = await postWebhook(app, event, { id: 'msg_bad_schema' })
  t.equal(response.statusCode, 400)
  const { message } = response.json()
  t.match(message, /data\.warmnessScore/)
  t.match(message, /data\.updatedAt/, 'a date-time without offset is refused')
  t.match(message, /data\.owner\.email/)
  t.equal(await countInbox('msg_bad_schema'), 0)
  t.equal(await contact(event.data.id), undefined)

  const activity = activityEvent({ type: 'FAX', dueAt: '2026-13-01' })
  const activityResponse = await postWebhook(app, activity)
  t.equal(activityResponse.statusCode, 400)
  t.match(activityResponse.json().message, /data\.type.*data\.dueAt|data\.dueAt.*data\.type/)
  const nullableOwner = await postWebhook(app, activityEvent({ owner: { id: 'u', email: 'nope' } }))
  t.match(
    nullableOwner.json().message,
    /data\.owner\.email: Expected string to match 'email' format/,
    'a field inside a nullable object is named, not only the object'
  )

  const missingTimestamp = await postWebhook(app, { type: 'contact.updated', data: {} })
  t.match(missingTimestamp.json().message, /timestamp/)
  const notJson = await postWebhook(app, '{"type":')
  t.equal(notJson.statusCode, 400)
  t.match(notJson.json().message, /not valid JSON/)
  const nul = await postWebhook(app, contactEvent({ name: 'A\u0000B' }))
  t.equal(nul.statusCode, 400)
  t.match(nul.json().message, /data\.name/)
})

t.test('unknown fields are accepted and ignored; an unknown type is 202 ignored', async (t) => {
  const event = { ...contactEvent({ futureField: { nested: true } }), extra: 1 }
  t.equal((await postWebhook(app, event)).statusCode, 202)
  const ignored = await postWebhook(
    app,
    { type: 'deal.won', timestamp: new Date().toISOString(), data: 'whatever' },
    {
      id: 'msg_ignored'
    }
  )
  t.equal(ignored.statusCode, 202)
  t.same(ignored.json(), { accepted: true, ignored: true, id: 'msg_ignored' })
  t.equal(await countInbox('msg_ignored'), 0, 'nothing stored for an ignored type')
})

t.test('415 and 413 come before the signature check', async (t) => {
  const body = JSON.stringify(contactEvent())
  const textPlain = await app.inject({
    method: 'POST',
    url: '/webhooks/crm',
    headers: { ...signedHeaders(body), 'content-type': 'text/plain' },
    body
  })
  t.equal(textPlain.statusCode, 415)
  const noType = await app.inject({
    method: 'POST',
    url: '/webhooks/crm',
    headers: { 'webhook-id': 'x' },
    body
  })
  t.equal(noType.statusCode, 415, 'missing content type, unsigned')
  const huge = JSON.stringify(contactEvent({ name: 'x', padding: 'y'.repeat(1024 * 1024) }))
  const tooLarge = await app.inject({
    method: 'POST',
    url: '/webhooks/crm',
    headers: { 'content-type': 'application/json' },
    body: huge
  })
  t.equal(tooLarge.statusCode, 413, 'unsigned and too large: 413')
  t.match(tooLarge.json(), { statusCode: 413, error: 'Payload Too Large' })
})

t.test('the same webhook-id again: 200 duplicate and nothing done twice', async (t) => {
  const event = contactEvent()
  const first = await postWebhook(app, event, { id: 'msg_dup_seq' })
  t.equal(first.statusCode, 202)
  const second = await postWebhook(
    app,
    { ...event, data: { ...event.data, name: 'Changed' } },
    { id: 'msg_dup_seq' }
  )
  t.equal(second.statusCode, 200)
  t.same(second.json(), { accepted: true, duplicate: true, id: 'msg_dup_seq' })
  t.equal(await countInbox('msg_dup_seq'), 1)
  t.equal((await contact(event.data.id))?.name, 'Ada Lovelace', 'the duplicate did not change the contact')
  t.equal((await jobsFor(event.data.id)).length, 1)
})

t.test('20 copies at once: one 202, nineteen duplicates, one row of everything', async (t) => {
  const event = activityEvent()
  const responses = await Promise.all(
    Array.from({ length: 20 }, () => postWebhook(app, event, { id: 'msg_dup_par' }))
  )
  const codes = responses.map((r) => r.statusCode).sort()
  t.same(codes, [...Array(19).fill(200), 202].sort())
  t.equal(await countInbox('msg_dup_par'), 1)
  const [activity] = await rows<{ n: number }>(
    app.db,
    sql`select count(*)::int as n from activities where id = ${event.data.id}`
  )
  t.equal(activity?.n, 1)
  t.equal((await jobsFor(event.data.id)).length, 1)
})

t.test('an activity redelivered under a new webhook-id is stored once', async (t) => {
  const event = activityEvent()
  t.equal((await postWebhook(app, event)).statusCode, 202)
  t.equal((await postWebhook(app, event)).statusCode, 202)
  const stored = await rows<Record<string, unknown>>(
    app.db,
    sql`select * from activities where id = ${event.data.id}`
  )
  t.equal(stored.length, 1)
  t.match(stored[0], {
    contact_id: event.data.contactId,
    type: 'CALL',
    due_at: '2026-11-26T15:30:00+01:00',
    duration_minutes: 30,
    replicated_to_pipedrive: false,
    pipedrive_sync_attempts: 0,
    state: 'pending'
  })
  t.same(await jobsFor(event.data.id), [
    { type: 'activity.replicate', state: 'pending', serial_key: event.data.contactId }
  ])
})

t.test('an update older than the newest seen is recorded and ignored; equal is applied', async (t) => {
  const id = uid('c')
  const newer = contactEvent({ id, name: 'Newer', updatedAt: '2026-11-24T10:00:00Z' })
  const older = contactEvent({ id, name: 'Older', updatedAt: '2026-11-24T10:30:00+01:00' })
  const equal = contactEvent({ id, name: 'Equal', updatedAt: '2026-11-24T11:00:00+01:00' })
  t.equal((await postWebhook(app, newer)).statusCode, 202)
  t.equal((await postWebhook(app, older, { id: 'msg_older' })).statusCode, 202)
  t.equal((await contact(id))?.name, 'Newer')
  t.equal(await countInbox('msg_older'), 1, 'the stale event is in the inbox')
  t.equal((await postWebhook(app, equal)).statusCode, 202)
  t.equal((await contact(id))?.name, 'Equal')
})

t.test('a pipedrivePersonId is stored and never cleared by null or absence', async (t) => {
  const id = uid('c')
  await postWebhook(app, contactEvent({ id, pipedrivePersonId: 42, updatedAt: '2026-11-24T10:00:00Z' }))
  await postWebhook(app, contactEvent({ id, pipedrivePersonId: null, updatedAt: '2026-11-24T10:01:00Z' }))
  const later = contactEvent({ id, updatedAt: '2026-11-24T10:02:00Z' })
  delete (later.data as Record<string, unknown>).pipedrivePersonId
  await postWebhook(app, later)
  t.equal((await contact(id))?.pipedrive_person_id, 42)
})

t.test('one transaction: a failure after the inbox insert leaves nothing behind', async (t) => {
  const event = contactEvent()
  const failingId = event.data.id
  // A trigger that fails only this test's job insert, so other tests are untouched.
  await app.db.execute(
    sql.raw(`create or replace function fail_job_insert() returns trigger language plpgsql as $$
      begin
        if new.entity_id = '${failingId}' then raise exception 'injected failure'; end if;
        return new;
      end $$`)
  )
  await app.db.execute(
    sql.raw(
      'create trigger fail_job_insert before insert on jobs for each row execute function fail_job_insert()'
    )
  )
  t.teardown(async () => {
    await app.db.execute(sql.raw('drop trigger if exists fail_job_insert on jobs'))
  })
  const response = await postWebhook(app, event, { id: 'msg_atomic' })
  t.equal(response.statusCode, 500)
  t.same(response.json(), {
    statusCode: 500,
    error: 'Internal Server Error',
    message: 'Internal Server Error'
  })
  t.equal(await countInbox('msg_atomic'), 0, 'no inbox row')
  t.equal(await contact(failingId), undefined, 'no contact row')
  t.equal((await jobsFor(failingId)).length, 0, 'no job row')

  await app.db.execute(sql.raw('drop trigger fail_job_insert on jobs'))
  const redelivered = await postWebhook(app, event, { id: 'msg_atomic' })
  t.equal(redelivered.statusCode, 202, 'the redelivery is processed as new: nothing was half-stored')
})

t.test('an organization snapshot follows changes and keeps a known Pipedrive id', async (t) => {
  const orgId = uid('o')
  const org = (fields: Record<string, unknown>) => ({ id: orgId, name: 'Engines', ...fields })
  const readOrg = async () =>
    (
      await rows<{ name: string; industry: string | null; pipedrive_org_id: number | null }>(
        app.db,
        sql`select name, industry, pipedrive_org_id from organizations where id = ${orgId}`
      )
    )[0]
  await postWebhook(app, contactEvent({ organization: org({ industry: 'Computing' }) }))
  t.same(await readOrg(), { name: 'Engines', industry: 'Computing', pipedrive_org_id: null })
  await postWebhook(app, contactEvent({ organization: org({ industry: 'Looms', pipedriveOrgId: 77 }) }))
  t.same(await readOrg(), { name: 'Engines', industry: 'Looms', pipedrive_org_id: 77 })
  await postWebhook(
    app,
    contactEvent({ organization: org({ name: 'Engines Ltd', industry: 'Looms', pipedriveOrgId: null }) })
  )
  t.same(
    await readOrg(),
    { name: 'Engines Ltd', industry: 'Looms', pipedrive_org_id: 77 },
    'null never clears the id'
  )
})

/** `data` of the event with `field` set to raw JSON text (values JSON.stringify cannot write). */
function withRawField(event: { data: Record<string, unknown> }, field: string, rawJson: string): string {
  const text = JSON.stringify({ ...event, data: { ...event.data, [field]: '@RAW@' } })
  return text.replace('"@RAW@"', rawJson)
}
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`
const inboxSize = async () =>
  (await rows<{ n: number }>(app.db, sql`select count(*)::int as n from webhook_inbox`))[0]?.n

t.test(
  'Pipedrive ids of 2^31 and 2^53 − 1 are stored exactly and read back as decimal strings',
  async (t) => {
    // The organization's id reaches the contact's status through its sync, which for a person the
    // CRM already knows calls nothing in Pipedrive: the job's handler is run here, for this contact only.
    const syncContact = syncHandlers({
      db: app.db,
      config: app.config,
      pipedrive: app.pipedrive,
      log: app.log,
      notify: () => {}
    })[JOB_TYPES.contactSync] as JobHandler
    for (const id of [2 ** 31, 2 ** 53 - 1]) {
      const event = contactEvent({
        pipedrivePersonId: id,
        organization: { id: uid('o'), name: `Org ${id}`, pipedriveOrgId: id }
      })
      t.equal((await postWebhook(app, event)).statusCode, 202, `contact with ids ${id}`)
      await syncContact(
        { entityId: event.data.id } as ClaimedJob,
        new AbortController().signal,
        await heldLease(app.db)
      )
      const status = await contactStatus(app, event.data.id)
      t.equal(status.pipedrivePersonId, String(id), `person id ${id}`)
      t.equal(status.pipedriveOrgId, String(id), `organization id ${id}`)

      const activity = activityEvent({ pipedrivePersonId: id })
      t.equal((await postWebhook(app, activity)).statusCode, 202, `activity with person id ${id}`)
      const [stored] = await rows<{ payload_person_id: unknown }>(
        app.db,
        sql`select payload_person_id from activities where id = ${activity.data.id}`
      )
      t.equal(stored?.payload_person_id, id, 'an int8 column reads back as the same JavaScript number')
    }
  }
)

t.test('an id of 2^53 or more, or a duration of 2^31 minutes: 400 naming the field', async (t) => {
  const before = await inboxSize()
  const cases: Array<[string, unknown, RegExp]> = [
    ['person id 2^53', contactEvent({ pipedrivePersonId: 2 ** 53 }), /data\.pipedrivePersonId/],
    [
      'organization id 2^53',
      contactEvent({ organization: { id: uid('o'), name: 'Big', pipedriveOrgId: 2 ** 53 } }),
      /data\.organization\.pipedriveOrgId/
    ],
    ['activity person id 2^64', activityEvent({ pipedrivePersonId: 2 ** 64 }), /data\.pipedrivePersonId/],
    ['duration 2^31', activityEvent({ durationMinutes: 2 ** 31 }), /data\.durationMinutes/]
  ]
  for (const [name, event, field] of cases) {
    const response = await postWebhook(app, event)
    t.equal(response.statusCode, 400, name)
    t.match(response.json().message, field, name)
  }
  t.equal(await inboxSize(), before, 'nothing stored')

  const longest = activityEvent({ durationMinutes: 2 ** 31 - 1 })
  t.equal((await postWebhook(app, longest)).statusCode, 202, 'the largest duration the column holds')
  const [stored] = await rows<{ duration_minutes: number }>(
    app.db,
    sql`select duration_minutes from activities where id = ${longest.data.id}`
  )
  t.equal(stored?.duration_minutes, 2 ** 31 - 1)
})

t.test('NUL or a lone surrogate in an object key: 400 naming where', async (t) => {
  const before = await inboxSize()
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['NUL in a key of data', { 'a\u0000b': 1 }, /data: NUL or unpaired surrogate in a key/],
    ['lone surrogate in a key of data', { '\ud800': 1 }, /data: NUL or unpaired surrogate in a key/],
    [
      'NUL in a nested key',
      { futureField: { list: [{ 'x\u0000': true }] } },
      /data\.futureField\.list\.0: NUL or unpaired surrogate in a key/
    ],
    ['lone low surrogate in a value', { futureField: 'a\udc00' }, /data\.futureField: NUL or unpaired/]
  ]
  for (const [name, fields, message] of cases) {
    const response = await postWebhook(app, contactEvent(fields))
    t.equal(response.statusCode, 400, name)
    t.match(response.json().message, message, name)
  }
  t.equal(await inboxSize(), before, 'nothing stored')
})

t.test('JSON nested 65 levels or deeper: 400, without exhausting the stack', async (t) => {
  const before = await inboxSize()
  // The body and data are two levels: the rest is the unknown field's.
  const deep: Array<[string, string]> = [
    ['10,000 levels', withRawField(contactEvent(), 'futureField', nested(10_000))],
    // An escaped character makes the check walk the whole body (only escapes produce NUL or surrogates).
    [
      '10,000 levels and an escape',
      withRawField(contactEvent({ name: 'Ad\u00e9' }), 'futureField', nested(10_000)).replace(
        'Adé',
        'Ad\\u00e9'
      )
    ],
    ['100,000 levels', withRawField(contactEvent(), 'futureField', nested(100_000))],
    ['65 levels', withRawField(contactEvent(), 'futureField', nested(63))]
  ]
  for (const [name, body] of deep) {
    const response = await postWebhook(app, body)
    t.equal(response.statusCode, 400, name)
    t.match(response.json().message, /nested deeper than 64 levels/, name)
  }
  t.equal(await inboxSize(), before, 'nothing stored')
  const deepest = withRawField(contactEvent(), 'futureField', nested(62))
  t.equal((await postWebhook(app, deepest)).statusCode, 202, '64 levels are accepted')
})

t.test('an ordinary event with many brackets (100 small objects in an unknown field): 202', async (t) => {
  const items = Array.from({ length: 100 }, (_, i) => ({ i, tags: [`t${i}`] }))
  const event = contactEvent({ futureField: items })
  t.equal((await postWebhook(app, event)).statusCode, 202)
  t.equal((await contact(event.data.id))?.name, 'Ada Lovelace')
})

t.test('numbers the database cannot hold in its JSON: 400 naming where', async (t) => {
  const before = await inboxSize()
  const cases: Array<[string, string, RegExp]> = [
    ['1e1000000', withRawField(contactEvent(), 'futureField', '1e1000000'), /data\.futureField: a number/],
    [
      '1e-1000000',
      withRawField(contactEvent(), 'futureField', '[1, {"x": 1e-1000000}]'),
      /data\.futureField\.1\.x: a number/
    ],
    [
      '200,000 digits',
      withRawField(contactEvent(), 'futureField', '9'.repeat(200_000)),
      /data\.futureField: a number/
    ],
    [
      '20,000 decimals',
      withRawField(contactEvent(), 'warmnessScore', `4.${'0'.repeat(20_000)}1`),
      /data\.warmnessScore: a number/
    ]
  ]
  for (const [name, body, message] of cases) {
    const response = await postWebhook(app, body)
    t.equal(response.statusCode, 400, name)
    t.match(response.json().message, message, name)
  }
  t.equal(await inboxSize(), before, 'nothing stored')
  const large = withRawField(
    contactEvent(),
    'futureField',
    `[1e1000, -${'9'.repeat(1000)}.${'5'.repeat(1000)}, "e99999"]`
  )
  t.equal((await postWebhook(app, large)).statusCode, 202, 'large numbers within the limits are stored')
})

t.test('date-times PostgreSQL cannot store: 400 naming the field', async (t) => {
  const before = await inboxSize()
  const cases: Array<[string, unknown, RegExp]> = [
    ['year 0', contactEvent({ updatedAt: '0000-01-01T00:00:00Z' }), /data\.updatedAt/],
    ['offset +16:00', contactEvent({ updatedAt: '2026-01-01T00:00:00+16:00' }), /data\.updatedAt/],
    ['offset -23:59', activityEvent({ createdAt: '2026-01-01T00:00:00-23:59' }), /data\.createdAt/],
    ['a fraction of a leap second', activityEvent({ createdAt: '2026-12-31T23:59:60.5Z' }), /data\.createdAt/]
  ]
  for (const [name, event, field] of cases) {
    const response = await postWebhook(app, event)
    t.equal(response.statusCode, 400, name)
    t.match(response.json().message, field, name)
  }
  t.equal(await inboxSize(), before, 'nothing stored')
  const edges = [
    contactEvent({ updatedAt: '0001-01-01T00:00:00+15:59' }),
    contactEvent({ updatedAt: '9999-12-31T23:59:59-15:59' }),
    activityEvent({ createdAt: '2026-12-31T23:59:60Z' })
  ]
  for (const event of edges)
    t.equal((await postWebhook(app, event)).statusCode, 202, JSON.stringify(event.data))
})
