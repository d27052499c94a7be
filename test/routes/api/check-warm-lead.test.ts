import t from 'tap'
import {
  build,
  contactEvent,
  postWebhook,
  sandboxConfig,
  TEST_OPERATOR_KEY,
  testDatabase,
  testSandbox,
  uid
} from '../../helper.js'

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const headers = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
// No worker: the contact.updated jobs wait, so the endpoint is what runs the sync.
const idle = await build(t, database, { config: sandboxConfig(sandbox), startWorker: false })
const working = await build(t, database, { config: sandboxConfig(sandbox), pollIntervalMs: 20 })
const check = (app: typeof idle, id: string, payload?: unknown) =>
  app.inject({
    method: 'POST',
    url: `/api/contacts/${id}/check-warm-lead`,
    headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
  })

t.test('unknown contact: 404; a different contactId in the body: 400', async (t) => {
  const missing = await check(working, 'nobody', {})
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { success: false, error: 'unknown contact nobody' })
  const event = contactEvent()
  await postWebhook(idle, event)
  const mismatch = await check(working, event.data.id, { contactId: 'someone-else' })
  t.equal(mismatch.statusCode, 400)
  t.match(mismatch.json(), { success: false, error: /does not match/ })
  const badBody = await check(working, event.data.id, { contactId: 12 })
  t.equal(badBody.statusCode, 400)
  t.equal(badBody.json().success, false)
})

t.test('a warm contact not yet synced is created now; ids are strings', async (t) => {
  const email = `${uid('now')}@example.com`
  const event = contactEvent({ email })
  await postWebhook(idle, event)
  const response = await check(working, event.data.id, { contactId: event.data.id })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.match(body, {
    success: true,
    isWarmLead: true,
    state: 'synced',
    pipedrivePersonId: /^\d+$/,
    pipedriveOrgId: /^\d+$/
  })
  t.notOk('queued' in body)
  const person = sandbox.store.persons.find((p) => p.emails.some((e) => e.value === email))
  t.equal(body.pipedrivePersonId, String(person?.id))
  const again = await check(working, event.data.id)
  t.same(again.json(), body, 'asking again changes nothing (no body at all is fine too)')
  t.equal(sandbox.store.persons.filter((p) => p.emails.some((e) => e.value === email)).length, 1)
})

t.test('a cold contact: isWarmLead false, nothing queued', async (t) => {
  const event = contactEvent({ warmnessScore: 1 })
  await postWebhook(idle, event)
  t.same((await check(working, event.data.id, {})).json(), {
    success: true,
    isWarmLead: false,
    state: 'not_warm'
  })
})

t.test('Pipedrive down: answers queued and the queue finishes the work later', async (t) => {
  const email = `${uid('down')}@example.com`
  const event = contactEvent({ email, organization: null })
  await postWebhook(idle, event)
  sandbox.faults.set({ down: true })
  const startedAt = Date.now()
  const response = await check(working, event.data.id, {})
  const waitedMs = Date.now() - startedAt
  sandbox.faults.clear()
  t.ok(waitedMs < 4_000, `answered without waiting out the 5 s (${waitedMs} ms): Pipedrive looked down`)
  t.equal(response.statusCode, 200)
  t.match(response.json(), { success: true, isWarmLead: true, queued: true, state: /pending|retrying/ })
  t.notOk(response.json().pipedrivePersonId)
})

t.test('without a worker the answer is queued after at most 5 s', async (t) => {
  await working.jobs.stop(5_000)
  const event = contactEvent()
  await postWebhook(idle, event)
  const response = await check(idle, event.data.id, {})
  t.match(response.json(), { success: true, isWarmLead: true, queued: true, state: 'pending' })
})
