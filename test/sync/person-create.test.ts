import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import { JobLeaseLostError } from '../../src/jobs/job-lease.js'
import { PermanentJobError } from '../../src/jobs/worker.js'
import type { JobRun, SyncDeps } from '../../src/sync/deps.js'
import { PersonOutcomeUnknownError } from '../../src/sync/person-create.js'
import { syncWarmLead } from '../../src/sync/warm-lead.js'
import { heldLease, takeOver } from '../held-lease.js'
import {
  build,
  contactEvent,
  eventually,
  postWebhook,
  sandboxConfig,
  testDatabase,
  testSandbox,
  uid
} from '../helper.js'
import { LINK_REFUSED, refusedLinks } from '../refused-links.js'

// The orchestrator called directly (no worker): each round is driven and inspected by the test.
const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const app = await build(t, database, {
  // A search grace far longer than any test: "recent" stays recent until a test backdates it.
  config: sandboxConfig(sandbox, { SYNC_BACKOFF_BASE_MS: '60000', SYNC_BACKOFF_MAX_MS: '60000' }),
  startWorker: false
})
const deps: SyncDeps = {
  db: app.db,
  config: app.config,
  pipedrive: app.pipedrive,
  log: app.log,
  notify: () => {}
}
/** A fresh round: a new job's lease, as the worker would hand it over. */
const round = async (signal = new AbortController().signal): Promise<JobRun> => ({
  signal,
  lease: await heldLease(app.db)
})
const named = (name: string) => sandbox.store.persons.filter((person) => person.name === name)
const personCreates = () =>
  sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/persons').length
const contactRow = async (id: string) =>
  (
    await rows<{ pipedrive_person_id: number | null; marked: boolean }>(
      app.db,
      sql`select pipedrive_person_id, person_create_sent_at is not null as marked from contacts where id = ${id}`
    )
  )[0]

const links = await refusedLinks(app.db)
const failure = (work: Promise<unknown>) =>
  work.then(
    () => undefined,
    (error: unknown) => error
  )

t.afterEach(async () => sandbox.faults.clear())

async function warmContact(data: Record<string, unknown>) {
  const event = contactEvent({ organization: null, ...data })
  await postWebhook(app, event)
  return event.data.id
}

t.test('no email, created but the link not stored: the next round stops for an operator', async (t) => {
  const name = uid('No Email')
  const id = await warmContact({ name, email: null })
  await links.refuse(id)
  t.match(await failure(syncWarmLead(deps, id, await round())), LINK_REFUSED)
  t.equal(named(name).length, 1, 'the person was created')
  t.match(await contactRow(id), { pipedrive_person_id: null, marked: true }, 'not linked, marked')
  await links.allow(id)

  const before = personCreates()
  const next = await round()
  const error = await syncWarmLead(deps, id, next).catch((e: unknown) => e)
  t.type(error, PermanentJobError, 'the job is dead at once')
  t.match((error as Error).message, /sent to Pipedrive without an email and its outcome is unknown/)
  t.match((error as Error).message, new RegExp(`POST /api/sync/jobs/${next.lease.jobId}/retry`))
  t.equal(personCreates(), before, 'no second create sent')
  t.equal(named(name).length, 1, 'one person')
})

t.test('with an email, created but the link not stored: the next round links it', async (t) => {
  const email = `${uid('lost-link')}@example.com`
  const id = await warmContact({ email })
  await links.refuse(id)
  t.match(await failure(syncWarmLead(deps, id, await round())), LINK_REFUSED)
  await links.allow(id)
  const before = personCreates()
  const outcome = await syncWarmLead(deps, id, await round())
  const persons = sandbox.store.persons.filter((p) => p.emails.some((e) => e.value === email))
  t.equal(persons.length, 1, 'one person')
  t.match(outcome, { kind: 'synced', personId: persons[0]?.id })
  t.equal(personCreates(), before, 'found by email, not created again')
  t.match(await contactRow(id), { pipedrive_person_id: persons[0]?.id, marked: false })
})

t.test('an abort after the create was sent is ambiguous: no email → an operator decides', async (t) => {
  const name = uid('Aborted')
  const id = await warmContact({ name, email: null })
  sandbox.faults.set({ delayAnswer: { ms: 1_000, method: 'POST', path: '/api/v2/persons' } })
  const controller = new AbortController()
  const first = syncWarmLead(deps, id, await round(controller.signal))
  await eventually(async () =>
    sandbox.requests.some((r) => r.method === 'POST' && (r.body as { name?: string })?.name === name)
  )
  controller.abort(new Error('shutting down'))
  await t.rejects(first, /shutting down/)
  t.match(await contactRow(id), { marked: true }, 'the mark stays: the person may exist')
  await t.rejects(syncWarmLead(deps, id, await round()), PermanentJobError)
  await eventually(async () => named(name).length === 1)
  t.equal(named(name).length, 1, 'the aborted create made it; nothing else was sent')
})

t.test('a create refused before processing (4xx) leaves no mark: the next round creates', async (t) => {
  const name = uid('Refused')
  const id = await warmContact({ name, email: null })
  sandbox.faults.set({ failNext: { count: 1, status: 422, method: 'POST', path: '/api/v2/persons' } })
  await t.rejects(syncWarmLead(deps, id, await round()), /answered 422/)
  t.match(await contactRow(id), { marked: false }, 'no person can exist: no mark')
  t.match(await syncWarmLead(deps, id, await round()), { kind: 'synced' })
  t.equal(named(name).length, 1)
})

t.test('with an email, a recent mark and no person found: the round fails, later it creates', async (t) => {
  const email = `${uid('grace')}@example.com`
  const id = await warmContact({ email })
  // A round that sent the create and died before anything reached Pipedrive.
  await app.db.execute(sql`update contacts set person_create_sent_at = now(), sync_state = 'sending_person'
    where id = ${id}`)
  const before = personCreates()
  await t.rejects(syncWarmLead(deps, id, await round()), PersonOutcomeUnknownError)
  t.equal(personCreates(), before, 'within the search grace: not created')
  await app.db.execute(sql`update contacts set person_create_sent_at = now() - interval '61 seconds'
    where id = ${id}`)
  t.match(await syncWarmLead(deps, id, await round()), { kind: 'synced' })
  t.equal(personCreates(), before + 1, 'after the grace: created once')
  t.equal(sandbox.store.persons.filter((p) => p.emails.some((e) => e.value === email)).length, 1)
})

t.test(
  'a mark from a create that carried an email, the email removed since: an operator decides',
  async (t) => {
    const id = uid('c')
    await postWebhook(
      app,
      contactEvent({ id, email: `${id}@example.com`, updatedAt: '2026-11-24T10:00:00Z' })
    )
    await app.db.execute(sql`update contacts set person_create_sent_at = now() - interval '1 hour',
    sync_state = 'sending_person' where id = ${id}`)
    await postWebhook(app, contactEvent({ id, email: null, updatedAt: '2026-11-24T11:00:00Z' }))
    const before = personCreates()
    await t.rejects(syncWarmLead(deps, id, await round()), PermanentJobError)
    t.equal(personCreates(), before, 'nothing sent: the person cannot be looked up by a missing email')
  }
)

t.test('a round whose lease was taken over while its create was in flight stores nothing', async (t) => {
  const email = `${uid('taken')}@example.com`
  const id = await warmContact({ email })
  sandbox.faults.set({ delayAnswer: { ms: 300, method: 'POST', path: '/api/v2/persons' } })
  const run = await round()
  const syncing = syncWarmLead(deps, id, run)
  await eventually(async () =>
    sandbox.requests.some(
      (r) =>
        r.method === 'POST' && (r.body as { emails?: Array<{ value: string }> })?.emails?.[0]?.value === email
    )
  )
  await takeOver(app.db, run.lease)
  await t.rejects(syncing, JobLeaseLostError)
  t.match(await contactRow(id), { pipedrive_person_id: null, marked: true }, 'no link stored; the mark stays')
})
