import { sql } from 'drizzle-orm'
import t from 'tap'
import { rows } from '../../src/db/database.js'
import {
  build,
  contactEvent,
  contactStatus,
  eventually,
  postWebhook,
  sandboxConfig,
  seedSandbox,
  testDatabase,
  testSandbox,
  uid,
  waitForState
} from '../helper.js'

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const app = await build(t, database, { config: sandboxConfig(sandbox), pollIntervalMs: 20 })

const status = (id: string) => contactStatus(app, id)
const settled = (id: string, states = ['synced', 'not_warm', 'skipped', 'dead']) =>
  waitForState(() => status(id), states)
const personsWithEmail = (email: string) =>
  sandbox.store.persons.filter((p) => p.emails.some((e) => e.value.toLowerCase() === email.toLowerCase()))
const orgsNamed = (name: string) => sandbox.store.organizations.filter((o) => o.name === name)
const labelOptions = () => sandbox.store.labelField().options ?? []
const industryOption = (label: string) =>
  sandbox.store.organizationFields
    .find((f) => f.field_code === 'industry')
    ?.options?.find((o) => o.label === label)?.id
const seed = <T>(path: string, body: unknown) => seedSandbox<T>(sandbox, path, body)
/** Pipedrive requests made while `run` ran (the sandbox's own log). */
async function callsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const before = sandbox.requests.length
  await run()
  return sandbox.requests.slice(before).map((r) => `${r.method} ${r.path}`)
}

t.test('a warm contact gets organization, owner, label and person, and the ids are kept', async (t) => {
  const email = `${uid('ada')}@engines.example`
  const orgName = uid('Analytical Engines')
  const event = contactEvent({
    email,
    organization: { id: uid('o'), name: orgName, industry: 'Software', country: 'GB' }
  })
  const calls = await callsDuring(async () => {
    await postWebhook(app, event)
    await settled(event.data.id)
  })
  t.ok(
    calls.indexOf('POST /api/v2/organizations') < calls.indexOf('POST /api/v2/persons') &&
      calls.includes('POST /api/v2/organizations'),
    `the organization is created before the person: ${calls.join(', ')}`
  )
  const s = await status(event.data.id)
  t.equal(s.state, 'synced')
  const [person] = personsWithEmail(email)
  const [org] = orgsNamed(orgName)
  t.ok(person && org, 'person and organization exist in Pipedrive')
  t.equal(s.pipedrivePersonId, String(person?.id))
  t.equal(s.pipedriveOrgId, String(org?.id))
  t.equal(person?.org_id, org?.id, 'the person belongs to the organization')
  t.equal(person?.owner_id, 1001, 'owner resolved by email (owner@crm.example)')
  t.same(
    person?.phones.map((p) => p.value),
    ['+44 20 7946 0000']
  )
  const warmLabel = labelOptions().find((o) => o.label.toLowerCase() === 'warm lead')
  t.same(person?.label_ids, [warmLabel?.id], 'the existing "Warm lead" label, not a new one')
  t.equal(
    labelOptions().filter((o) => o.label.toLowerCase() === 'warm lead').length,
    1,
    'no second Warm Lead label'
  )
  t.same(org?.address, { value: 'GB', country: 'GB' }, 'country in the address')
  t.equal(org?.industry, industryOption('Software'), 'industry in the standard industry field')
  const [user] = await rows<{ pipedrive_user_id: number }>(
    app.db,
    sql`select pipedrive_user_id from users where email = 'owner@crm.example'`
  )
  t.equal(user?.pipedrive_user_id, 1001, 'the owner id is cached in the users table')
})

t.test('a cold contact causes no Pipedrive call; it syncs once it turns warm', async (t) => {
  const id = uid('c')
  const email = `${uid('cold')}@example.com`
  const calls = await callsDuring(async () => {
    await postWebhook(
      app,
      contactEvent({ id, email, warmnessScore: 3.99, updatedAt: '2026-11-24T10:00:00Z' })
    )
    await settled(id, ['not_warm'])
  })
  t.same(calls, [])
  t.equal(personsWithEmail(email).length, 0)
  await postWebhook(app, contactEvent({ id, email, warmnessScore: 4, updatedAt: '2026-11-24T11:00:00Z' }))
  t.equal((await settled(id)).state, 'synced')
  t.equal(personsWithEmail(email).length, 1)
})

t.test('a person found by email is linked and labelled, keeping its owner and labels', async (t) => {
  const email = `${uid('known')}@example.com`
  const existing = await seed<{ id: number }>('/api/v2/persons', {
    name: 'Known Person',
    emails: [{ value: email.toUpperCase(), primary: true, label: 'work' }],
    owner_id: 1002,
    label_ids: [labelOptions()[0]?.id ?? 0]
  })
  const event = contactEvent({ email, organization: null })
  await postWebhook(app, event)
  const s = await settled(event.data.id)
  t.equal(s.pipedrivePersonId, String(existing.id), 'linked, not created')
  t.equal(personsWithEmail(email).length, 1, 'no duplicate')
  const person = sandbox.store.persons.find((p) => p.id === existing.id)
  t.equal(person?.owner_id, 1002, 'its owner is left as it was')
  t.equal(person?.label_ids.length, 2, 'the label is added to the ones it had')
})

t.test('an organization with the same name (ignoring case and spaces) is reused', async (t) => {
  const name = uid('Looms Inc')
  const existing = await seed<{ id: number }>('/api/v2/organizations', { name })
  const event = contactEvent({ organization: { id: uid('o'), name: `  ${name.toUpperCase()} ` } })
  await postWebhook(app, event)
  const s = await settled(event.data.id)
  t.equal(s.pipedriveOrgId, String(existing.id))
  t.equal(sandbox.store.organizations.filter((o) => o.name.toLowerCase() === name.toLowerCase()).length, 1)
})

t.test('calls per record: new org ≤ 4, known org ≤ 2 once user and label are cached', async (t) => {
  const newOrg = contactEvent({
    email: `${uid('n')}@example.com`,
    organization: { id: uid('o'), name: uid('New Org') }
  })
  const newOrgCalls = await callsDuring(async () => {
    await postWebhook(app, newOrg)
    await settled(newOrg.data.id)
  })
  const made = await status(newOrg.data.id)
  t.equal(made.state, 'synced', 'the contact with a new organization is synced')
  t.ok(newOrgCalls.length <= 4, `new organization: ${newOrgCalls.join(', ')}`)
  t.ok(
    newOrgCalls.includes('POST /api/v2/organizations') && newOrgCalls.includes('POST /api/v2/persons'),
    `organization and person created: ${newOrgCalls.join(', ')}`
  )
  const orgId = Number(made.pipedriveOrgId)
  t.ok(orgsNamed(newOrg.data.organization.name)[0]?.id === orgId, 'its organization id is the one created')

  const knownOrg = contactEvent({
    email: `${uid('k')}@example.com`,
    organization: { id: uid('o'), name: 'Whatever', pipedriveOrgId: orgId }
  })
  const knownOrgCalls = await callsDuring(async () => {
    await postWebhook(app, knownOrg)
    await settled(knownOrg.data.id)
  })
  const linked = await status(knownOrg.data.id)
  t.equal(linked.state, 'synced', 'the contact with a known organization is synced')
  t.equal(linked.pipedriveOrgId, String(orgId))
  t.equal(personsWithEmail(knownOrg.data.email)[0]?.org_id, orgId, 'its person is in that organization')
  t.ok(knownOrgCalls.length <= 2, `known organization: ${knownOrgCalls.join(', ')}`)
  t.ok(knownOrgCalls.includes('POST /api/v2/persons'), `the person is created: ${knownOrgCalls.join(', ')}`)
  t.notOk(
    knownOrgCalls.some((c) => c.includes('/organizations')),
    'a known organization id is used as it is'
  )
})

t.test('a pipedrivePersonId from the CRM is stored and nothing is written to Pipedrive', async (t) => {
  const event = contactEvent({ pipedrivePersonId: 424242 })
  const calls = await callsDuring(async () => {
    await postWebhook(app, event)
    await settled(event.data.id)
  })
  t.same(calls, [])
  t.equal((await status(event.data.id)).pipedrivePersonId, '424242')
})

t.test('an owner without an active Pipedrive user: created without owner, with a warning', async (t) => {
  const email = `${uid('orphan')}@example.com`
  const event = contactEvent({
    email,
    owner: { id: 'u_gone', email: 'former@crm.example' },
    organization: null
  })
  await postWebhook(app, event)
  const s = await settled(event.data.id)
  t.equal(s.state, 'synced')
  t.match(s.warning, /no active Pipedrive user has the email former@crm.example/)
  t.equal(personsWithEmail(email)[0]?.owner_id, 1001, 'Pipedrive made the token user the owner')
})

t.test('a failure after the organization: the retry reuses it, one person in the end', async (t) => {
  const email = `${uid('retry')}@example.com`
  const orgName = uid('Retry Org')
  // 1 + 3 in-line retries: the whole first round fails after the organization was created. A 429
  // is refused before processing: no person can exist, so the next round creates at once.
  sandbox.faults.set({
    failNext: { count: 4, status: 429, retryAfterSeconds: 0, method: 'POST', path: '/api/v2/persons' }
  })
  t.teardown(() => sandbox.faults.clear())
  const event = contactEvent({ email, organization: { id: uid('o'), name: orgName } })
  const calls = await callsDuring(async () => {
    await postWebhook(app, event)
    await settled(event.data.id)
  })
  const s = await status(event.data.id)
  t.equal(s.state, 'synced')
  t.equal(s.attempts, 2, 'the second round succeeded')
  t.equal(
    calls.filter((c) => c === 'POST /api/v2/persons').length,
    5,
    '4 failed creates, then one that worked'
  )
  t.equal(calls.filter((c) => c === 'POST /api/v2/organizations').length, 1, 'the stored org id was reused')
  t.equal(orgsNamed(orgName).length, 1, 'one organization')
  t.equal(personsWithEmail(email).length, 1, 'one person')
})

t.test('an answer lost after the person was created: still one person', async (t) => {
  const email = `${uid('lost')}@example.com`
  sandbox.faults.set({ dropNext: { count: 1, when: 'after', method: 'POST', path: '/api/v2/persons' } })
  t.teardown(() => sandbox.faults.clear())
  const event = contactEvent({ email, organization: null })
  await postWebhook(app, event)
  const s = await settled(event.data.id)
  t.equal(s.state, 'synced')
  t.equal(personsWithEmail(email).length, 1)
  t.equal(s.pipedrivePersonId, String(personsWithEmail(email)[0]?.id))
})

t.test('30 events for one contact at once: one person, one organization', async (t) => {
  const id = uid('c')
  const email = `${uid('burst')}@example.com`
  const orgName = uid('Burst Org')
  const organization = { id: uid('o'), name: orgName }
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      postWebhook(
        app,
        contactEvent({
          id,
          email,
          organization,
          name: `Burst ${i}`,
          updatedAt: new Date(Date.UTC(2026, 10, 24, 10, i)).toISOString()
        })
      )
    )
  )
  t.equal((await settled(id)).state, 'synced')
  t.equal(personsWithEmail(email).length, 1)
  t.equal(orgsNamed(orgName).length, 1)
})

t.test('a contact without email is created once, however often it is updated', async (t) => {
  const id = uid('c')
  const name = uid('No Email')
  await postWebhook(app, contactEvent({ id, name, email: null, updatedAt: '2026-11-24T10:00:00Z' }))
  await settled(id)
  await postWebhook(app, contactEvent({ id, name, email: null, updatedAt: '2026-11-24T10:05:00Z' }))
  await eventually(async () => {
    const [job] = await rows<{ n: number }>(
      app.db,
      sql`select count(*)::int as n from jobs where entity_id = ${id} and state <> 'done'`
    )
    return job?.n === 0
  })
  t.equal(sandbox.store.persons.filter((p) => p.name === name).length, 1)
})

t.test('a 400 from Pipedrive is not retried: dead at once with what Pipedrive said', async (t) => {
  sandbox.faults.set({
    failNext: { count: 1, status: 400, message: 'Name is too long', method: 'POST', path: '/api/v2/persons' }
  })
  t.teardown(() => sandbox.faults.clear())
  const event = contactEvent({ email: `${uid('bad')}@example.com`, organization: null })
  await postWebhook(app, event)
  const s = await settled(event.data.id)
  t.equal(s.state, 'dead')
  t.equal(s.attempts, 1)
  t.match(s.lastError, /400.*Name is too long/)
})

t.test('Pipedrive down: accepted and queued; synced once it is back', async (t) => {
  const email = `${uid('outage')}@example.com`
  sandbox.faults.set({ down: true })
  t.teardown(() => sandbox.faults.clear())
  const event = contactEvent({ email, organization: null })
  t.equal((await postWebhook(app, event)).statusCode, 202, 'intake never waits for Pipedrive')
  const failed = await eventually(async () => {
    const s = await status(event.data.id)
    return s.attempts >= 1 && s.lastError ? s : undefined
  })
  t.match(failed.lastError, /503/)
  sandbox.faults.clear()
  t.equal((await settled(event.data.id)).state, 'synced', 'the queue finished the work')
  t.equal(personsWithEmail(email).length, 1)
})

t.test('an account without the label: created once for many contacts at once', async (t) => {
  const bare = await testSandbox(t, { company: { warmLeadLabel: false } })
  // Its own database: the file's app would otherwise take these jobs to its own sandbox.
  const bareApp = await build(t, await testDatabase(t), { config: sandboxConfig(bare), pollIntervalMs: 20 })
  const events = Array.from({ length: 8 }, () =>
    contactEvent({ email: `${uid('l')}@example.com`, organization: null })
  )
  await Promise.all(events.map((event) => postWebhook(bareApp, event)))
  for (const event of events) {
    await waitForState(() => contactStatus(bareApp, event.data.id), ['synced'])
  }
  const labels = (bare.store.labelField().options ?? []).filter((o) => o.label.toLowerCase() === 'warm lead')
  t.equal(labels.length, 1, 'one Warm Lead label')
  t.equal(bare.store.persons.length, events.length)
  t.ok(
    bare.store.persons.every((p) => p.label_ids.includes(labels[0]?.id ?? -1)),
    'on every person'
  )
})

t.test('contacts of one organization syncing at once: one organization in Pipedrive', async (t) => {
  const orgName = uid('Shared Org')
  const organization = { id: uid('o'), name: orgName }
  const events = Array.from({ length: 12 }, () =>
    contactEvent({ email: `${uid('member')}@example.com`, organization })
  )
  // Slow answers widen the window in which two jobs could both search and then both create.
  sandbox.faults.set({ latencyMs: 30 })
  t.teardown(() => sandbox.faults.clear())
  await Promise.all(events.map((event) => postWebhook(app, event)))
  const statuses = await Promise.all(events.map((event) => settled(event.data.id)))
  t.ok(
    statuses.every((s) => s.state === 'synced'),
    'every contact synced'
  )
  const [org] = orgsNamed(orgName)
  t.equal(orgsNamed(orgName).length, 1, 'one organization')
  t.ok(
    statuses.every((s) => s.pipedriveOrgId === String(org?.id)),
    'every contact and person points at it'
  )
})
