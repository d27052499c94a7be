import t from 'tap'
import {
  build,
  contactEvent,
  contactStatus,
  eventually,
  postWebhook,
  sandboxConfig,
  TEST_OPERATOR_KEY,
  testDatabase,
  testSandbox,
  uid,
  waitForState
} from '../helper.js'
import { refusedLinks } from '../refused-links.js'

// The whole service with its worker: what an operator sees and does through the API.
const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const app = await build(t, database, { config: sandboxConfig(sandbox), pollIntervalMs: 20 })
const links = await refusedLinks(app.db)
const operator = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }

const status = (id: string) => contactStatus(app, id)
const named = (name: string) => sandbox.store.persons.filter((person) => person.name === name)
const createsFor = (name: string) =>
  sandbox.requests.filter(
    (r) => r.method === 'POST' && r.path === '/api/v2/persons' && (r.body as { name?: string })?.name === name
  ).length
const jobIdOf = (lastError: string | undefined) =>
  /\/api\/sync\/jobs\/(\d+)\/retry/.exec(lastError ?? '')?.[1]

t.afterEach(async () => sandbox.faults.clear())

/** A contact without email whose person was created but whose link the database refused. */
async function createdButNotLinked(name: string) {
  const id = uid('c')
  await links.refuse(id)
  await postWebhook(
    app,
    contactEvent({ id, name, email: null, organization: null, updatedAt: '2026-11-24T10:00:00Z' })
  )
  const dead = await waitForState(() => status(id), ['dead', 'synced'])
  await links.allow(id)
  return { id, dead }
}

t.test('no email, the link lost after the create: dead for an operator, never a second person', async (t) => {
  const name = uid('Stopped')
  const { id, dead } = await createdButNotLinked(name)
  t.equal(dead.state, 'dead', 'stopped instead of creating again')
  t.match(dead.lastError, /sent to Pipedrive without an email and its outcome is unknown/)
  t.match(
    dead.lastError,
    /send its id as pipedrivePersonId.*replay this job \(POST \/api\/sync\/jobs\/\d+\/retry\)/
  )
  t.equal(named(name).length, 1, 'one person')
  t.equal(createsFor(name), 1, 'one create sent')

  // A bulk replay is not a check of this contact: it stops again, still without a second create.
  const replay = await app.inject({ method: 'POST', url: '/api/sync/retry-dead', headers: operator })
  t.equal(replay.statusCode, 202)
  const again = await eventually(async () => {
    const s = await status(id)
    return s.state === 'dead' && s.attempts === 1 ? s : undefined
  })
  t.match(again.lastError, /without an email/)
  t.equal(createsFor(name), 1, 'retry-dead sent no create')

  // The operator found the person: the CRM sends its id, and the contact is linked to it.
  const person = named(name)[0]
  await postWebhook(
    app,
    contactEvent({
      id,
      name,
      email: null,
      organization: null,
      pipedrivePersonId: person?.id,
      updatedAt: '2026-11-24T11:00:00Z'
    })
  )
  const linked = await waitForState(() => status(id), ['synced'])
  t.equal(linked.pipedrivePersonId, String(person?.id))
  t.equal(named(name).length, 1, 'still one person')
})

t.test('no email: an operator who found no person replays the dead job, which creates it once', async (t) => {
  const name = uid('Replayed')
  const { id, dead } = await createdButNotLinked(name)
  t.equal(dead.state, 'dead')
  // The operator's check: no such person in Pipedrive (here it is removed, as if never made).
  sandbox.store.persons = sandbox.store.persons.filter((person) => person.name !== name)
  const jobId = jobIdOf(dead.lastError)
  t.ok(jobId, 'the lastError names the job to replay')
  const replay = await app.inject({ method: 'POST', url: `/api/sync/jobs/${jobId}/retry`, headers: operator })
  t.equal(replay.statusCode, 202)
  const synced = await waitForState(() => status(id), ['synced', 'dead'])
  t.equal(synced.state, 'synced', 'the replay is the decision to create')
  t.equal(named(name).length, 1, 'one person')
  t.equal(synced.pipedrivePersonId, String(named(name)[0]?.id))
  t.equal(createsFor(name), 2, 'the replay sent exactly one create')
})

t.test(
  'with an email, an ambiguous create (503): not sent again at once, one person in the end',
  async (t) => {
    const email = `${uid('ambiguous')}@example.com`
    sandbox.faults.set({ failNext: { count: 1, status: 503, method: 'POST', path: '/api/v2/persons' } })
    const event = contactEvent({ email, organization: null })
    await postWebhook(app, event)
    const synced = await waitForState(() => status(event.data.id), ['synced', 'dead'])
    t.equal(synced.state, 'synced')
    t.ok(synced.attempts >= 2, `a later round created it (rounds: ${synced.attempts})`)
    const persons = sandbox.store.persons.filter((p) => p.emails.some((e) => e.value === email))
    t.equal(persons.length, 1, 'one person')
    t.equal(synced.pipedrivePersonId, String(persons[0]?.id))
  }
)
