import { randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { encryptToken } from '../../src/crypto/token-cipher.js'
import { rows } from '../../src/db/database.js'
import { JobLeaseLostError } from '../../src/jobs/job-lease.js'
import { PermanentJobError } from '../../src/jobs/worker.js'
import { PipedriveError } from '../../src/pipedrive/errors.js'
import { parkUntilPerson } from '../../src/store/activities.js'
import { ActivityOutcomeUnknownError, replicateActivity } from '../../src/sync/activity-replication.js'
import type { SyncDeps } from '../../src/sync/deps.js'
import { heldLease, takeOver } from '../held-lease.js'
import {
  activityEvent,
  activityStatus,
  build,
  contactEvent,
  eventually,
  postWebhook,
  sandboxConfig,
  seedSandbox,
  testDatabase,
  testSandbox,
  uid
} from '../helper.js'

// The orchestrator called directly (no worker): each step is driven and inspected by the test.
const database = await testDatabase(t)
const sandbox = await testSandbox(t)
// This account has no "email" activity type: EMAIL activities fall back to "task".
sandbox.store.activityTypes = sandbox.store.activityTypes.filter((type) => type.key_string !== 'email')
const encryptionKey = randomBytes(32)
const app = await build(t, database, {
  config: sandboxConfig(sandbox, { TOKEN_ENCRYPTION_KEY: encryptionKey.toString('base64') }),
  startWorker: false
})
const deps: SyncDeps = {
  db: app.db,
  config: app.config,
  pipedrive: app.pipedrive,
  log: app.log,
  notify: () => {}
}
const signal = new AbortController().signal
const lease = await heldLease(app.db)
const run = { signal, lease }
const status = (id: string) => activityStatus(app, id)

const seed = <T>(path: string, body: unknown) => seedSandbox<T>(sandbox, path, body)
const newPerson = async () => (await seed<{ id: number }>('/api/v2/persons', { name: uid('Person') })).id
const callsSince = (from: number) => sandbox.requests.slice(from).map((r) => `${r.method} ${r.path}`)

async function linkedActivity(data: Record<string, unknown> = {}) {
  const personId = await newPerson()
  const contact = contactEvent({ pipedrivePersonId: personId })
  await postWebhook(app, contact)
  const event = activityEvent({ contactId: contact.data.id, ...data })
  await postWebhook(app, event)
  return { id: event.data.id, contactId: contact.data.id, personId }
}
const setActivity = (id: string, assignments: ReturnType<typeof sql>) =>
  app.db.execute(sql`update activities set ${assignments} where id = ${id}`)

t.afterEach(async () => sandbox.faults.clear())

t.test('an unknown activity is nothing to do', async (t) => {
  const from = sandbox.requests.length
  t.same(await replicateActivity(deps, 'no-such-activity', run), { kind: 'missing' })
  t.same(callsSince(from), [])
})

t.test('a type the account lacks falls back to task, with the reason in the status', async (t) => {
  const { id, personId } = await linkedActivity({ type: 'EMAIL', subject: 'Proposal sent' })
  const outcome = await replicateActivity(deps, id, run)
  const warning = 'activity type "email" does not exist in Pipedrive; used "task"'
  t.match(outcome, { kind: 'synced', created: true, warnings: [warning] })
  t.match(
    sandbox.store.activities.filter((a) => a.person_id === personId),
    [{ subject: 'Proposal sent', type: 'task' }]
  )
  t.match(await status(id), { synced: true, state: 'synced', warning })
})

t.test('no token for the owner and no company token: skipped with the reason, nothing sent', async (t) => {
  const { id } = await linkedActivity()
  const from = sandbox.requests.length
  const tokenless: SyncDeps = { ...deps, config: { ...deps.config, PIPEDRIVE_API_TOKEN: undefined } }
  const outcome = await replicateActivity(tokenless, id, run)
  t.match(outcome, { kind: 'skipped', reason: /no Pipedrive token/ })
  t.same(callsSince(from), [])
  t.same(await status(id), {
    success: true,
    synced: false,
    syncAttempts: 0,
    state: 'skipped',
    lastError: 'no Pipedrive token: the owner has none stored and PIPEDRIVE_API_TOKEN is not set'
  })
})

t.test("the owner's own token is used when stored", async (t) => {
  const encrypted = encryptToken(
    encryptionKey,
    'sales@crm.example',
    sandbox.tokens['sales@crm.example'] ?? ''
  )
  await app.db.execute(sql`
    insert into users (email, api_token_ciphertext, api_token_iv, api_token_tag)
    values ('sales@crm.example', ${encrypted.ciphertext}, ${encrypted.iv}, ${encrypted.tag})
    on conflict (email) do update set api_token_ciphertext = excluded.api_token_ciphertext,
      api_token_iv = excluded.api_token_iv, api_token_tag = excluded.api_token_tag`)
  const { id } = await linkedActivity({ owner: { id: 'u_2', email: 'sales@crm.example' } })
  const from = sandbox.requests.length
  t.match(await replicateActivity(deps, id, run), { kind: 'synced' })
  const create = sandbox.requests.slice(from).find((r) => r.method === 'POST')
  t.equal(create?.userId, 1002, "sent with Sam's token")
  t.match(create?.body, { owner_id: 1002 })
})

t.test('an activity already replicated is never sent again', async (t) => {
  const { id } = await linkedActivity()
  const first = await replicateActivity(deps, id, run)
  const from = sandbox.requests.length
  const second = await replicateActivity(deps, id, run)
  t.same(second, {
    kind: 'already',
    pipedriveActivityId: first.kind === 'synced' ? first.pipedriveActivityId : -1
  })
  t.same(callsSince(from), [])
})

t.test('after a crash mid-create (state sending), the record Pipedrive made is adopted', async (t) => {
  const { id, personId } = await linkedActivity({ subject: 'Crash', dueAt: '2026-12-02T09:00:00+01:00' })
  const made = await seed<{ id: number }>('/api/v2/activities', {
    subject: 'Crash',
    type: 'call',
    due_date: '2026-12-02',
    due_time: '08:00',
    participants: [{ person_id: personId, primary: true }]
  })
  await setActivity(id, sql`state = 'sending'`)
  const from = sandbox.requests.length
  t.match(await replicateActivity(deps, id, run), {
    kind: 'synced',
    pipedriveActivityId: made.id,
    created: false
  })
  t.same(callsSince(from), ['GET /api/v2/activities'], 'looked, did not create')
})

t.test('a look-alike at another time, or owned by another activity, is not adopted', async (t) => {
  const { id, contactId, personId } = await linkedActivity({ subject: 'Twin', dueAt: '2026-12-03T10:00:00Z' })
  const base = { subject: 'Twin', type: 'call', participants: [{ person_id: personId, primary: true }] }
  await seed('/api/v2/activities', { ...base, due_date: '2026-12-03', due_time: '11:00' })
  const owned = await seed<{ id: number }>('/api/v2/activities', {
    ...base,
    due_date: '2026-12-03',
    due_time: '10:00'
  })
  const sibling = activityEvent({ contactId, subject: 'Twin', dueAt: '2026-12-03T10:00:00Z' })
  await postWebhook(app, sibling)
  await setActivity(sibling.data.id, sql`pipedrive_activity_id = ${owned.id}, replicated_to_pipedrive = true`)
  await setActivity(id, sql`state = 'sending'`)

  const outcome = await replicateActivity(deps, id, run)
  t.match(outcome, { kind: 'synced', created: true })
  const twins = sandbox.store.activities.filter((a) => a.person_id === personId && a.due_time === '10:00')
  t.equal(twins.length, 2, 'its own activity beside the sibling’s')
})

t.test('outcome unknown and nothing of ours to find: the round fails, the next one creates', async (t) => {
  const { id, contactId, personId } = await linkedActivity({ subject: 'Lost', dueAt: '2026-12-04' })
  const owned = await seed<{ id: number }>('/api/v2/activities', {
    subject: 'Lost',
    type: 'call',
    due_date: '2026-12-04',
    participants: [{ person_id: personId, primary: true }]
  })
  const sibling = activityEvent({ contactId, subject: 'Lost', dueAt: '2026-12-04' })
  await postWebhook(app, sibling)
  await setActivity(sibling.data.id, sql`pipedrive_activity_id = ${owned.id}, replicated_to_pipedrive = true`)
  // The create is cut before Pipedrive processes it; the client's look-up then sees the sibling's.
  sandbox.faults.set({ dropNext: { count: 1, when: 'before', method: 'POST', path: '/api/v2/activities' } })

  await t.rejects(replicateActivity(deps, id, run), ActivityOutcomeUnknownError)
  t.match(await status(id), { synced: false, state: 'pending', syncAttempts: 1 })
  const [row] = await rows<{ state: string }>(app.db, sql`select state from activities where id = ${id}`)
  t.equal(row?.state, 'sending', 'the next round will look first')

  const outcome = await replicateActivity(deps, id, run)
  t.match(outcome, { kind: 'synced', created: true })
  t.not(outcome.kind === 'synced' && outcome.pipedriveActivityId, owned.id)
  t.equal(sandbox.store.activities.filter((a) => a.person_id === personId).length, 2)
  t.match(await status(id), { synced: true, syncAttempts: 2 })
})

t.test('a failed look-up is never taken for "not there"', async (t) => {
  const { id } = await linkedActivity()
  await setActivity(id, sql`state = 'sending', pipedrive_sync_attempts = 1`)
  sandbox.faults.set({ failNext: { count: 4, status: 500, method: 'GET', path: '/api/v2/activities' } })
  const from = sandbox.requests.length
  await t.rejects(replicateActivity(deps, id, run), PipedriveError)
  t.notOk(callsSince(from).includes('POST /api/v2/activities'), 'no create sent')
})

t.test('a stored dueAt that cannot be read fails the job at once, nothing sent', async (t) => {
  const { id } = await linkedActivity()
  await setActivity(id, sql`due_at = '2026-11-26T15:30:00'`)
  const from = sandbox.requests.length
  await t.rejects(replicateActivity(deps, id, run), PermanentJobError)
  t.notOk(callsSince(from).includes('POST /api/v2/activities'))
})

t.test('an activity whose contact was never sent: payload person, company token, no owner', async (t) => {
  const personId = await newPerson()
  const event = activityEvent({ contactId: uid('c'), pipedrivePersonId: personId, owner: null })
  await postWebhook(app, event)
  const from = sandbox.requests.length
  t.match(await replicateActivity(deps, event.data.id, run), { kind: 'synced', warnings: [] })
  const create = sandbox.requests.slice(from).find((r) => r.method === 'POST')
  t.equal(create?.userId, 1001, 'company token')
  t.notOk((create?.body as Record<string, unknown> | undefined)?.owner_id)
})

t.test('no person yet: parked; a person linked before the park is seen under the lock', async (t) => {
  const contact = contactEvent({ warmnessScore: 0 })
  await postWebhook(app, contact)
  const event = activityEvent({ contactId: contact.data.id })
  await postWebhook(app, event)
  const from = sandbox.requests.length
  t.same(await replicateActivity(deps, event.data.id, run), { kind: 'waiting_for_person' })
  t.same(callsSince(from), [], 'no Pipedrive call')
  t.match(await status(event.data.id), { state: 'waiting_for_person' })

  await app.db.execute(sql`update contacts set pipedrive_person_id = 999999 where id = ${contact.data.id}`)
  t.equal(
    await parkUntilPerson(app.db, lease, event.data.id, contact.data.id),
    false,
    'not parked: the person is there'
  )
})

t.test('a round whose lease was taken over while its create was in flight stores nothing', async (t) => {
  const { id } = await linkedActivity({ subject: uid('Taken over') })
  const lost = { signal, lease: await heldLease(app.db) }
  sandbox.faults.set({ delayAnswer: { ms: 300, method: 'POST', path: '/api/v2/activities' } })
  const from = sandbox.requests.length
  const replicating = replicateActivity(deps, id, lost)
  await eventually(async () => callsSince(from).includes('POST /api/v2/activities'))
  await takeOver(app.db, lost.lease)
  await t.rejects(replicating, JobLeaseLostError)
  const [row] = await rows<{ replicated: boolean; pipedrive_activity_id: number | null }>(
    app.db,
    sql`select replicated_to_pipedrive as replicated, pipedrive_activity_id from activities where id = ${id}`
  )
  t.same(row, { replicated: false, pipedrive_activity_id: null }, 'the activity id is not stored')
})
