/**
 * The catalogue's updates and deletes through the real client against the built-in sandbox: the
 * sandbox's answers pass the client's schema checks, and a deleted record answers 404.
 */
import t from 'tap'
import {
  deleteActivity,
  deletePerson,
  getPerson,
  listPersonActivities,
  patchActivity,
  patchOrganization,
  patchPerson,
  postActivity,
  postOrganization,
  postPerson,
  searchOrganizations,
  searchPersons
} from '../../src/pipedrive/api.js'
import { PipedriveError } from '../../src/pipedrive/errors.js'
import { sandboxConnection } from './sandbox-connection.js'

const { sandbox, connection } = await sandboxConnection(t)

const client = () => connection.forToken(sandbox.token).client
const email = (value: string) => ({ value, primary: true, label: 'work' })
const status = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (error: unknown) => (error instanceof PipedriveError ? error.status : error)
  )

t.test('persons: patch, delete, then 404 and gone from search', async (t) => {
  const person = await postPerson(client(), {
    name: 'Ada',
    emails: [email('ada@example.com')],
    label_ids: [5]
  })
  const patched = await patchPerson(client(), person.id, {
    emails: [email('ada@new.example')],
    label_ids: [7]
  })
  t.match(patched, { id: person.id, name: 'Ada', emails: [{ value: 'ada@new.example' }], label_ids: [7] })
  t.same(await deletePerson(client(), person.id), { id: person.id })
  t.equal(await status(getPerson(client(), person.id)), 404)
  t.equal(await status(patchPerson(client(), person.id, { name: 'X' })), 404)
  t.equal(await status(deletePerson(client(), person.id)), 404)
  t.same(await searchPersons(client(), 'ada@new.example'), [])
})

t.test('organizations: patch', async (t) => {
  const organization = await postOrganization(client(), { name: 'Acme' })
  t.match(await patchOrganization(client(), organization.id, { name: 'Acme AG' }), { name: 'Acme AG' })
  t.match(await searchOrganizations(client(), 'Acme AG'), [{ item: { id: organization.id } }])
  t.equal(await status(patchOrganization(client(), organization.id, { owner_id: 4242 })), 400)
})

t.test('activities: patch, delete, then 404 and gone from the list', async (t) => {
  const person = await postPerson(client(), { name: 'Ada' })
  const activity = await postActivity(client(), {
    subject: 'Intro',
    type: 'call',
    participants: [{ person_id: person.id, primary: true }]
  })
  t.match(await patchActivity(client(), activity.id, { done: true, due_date: '2026-12-01' }), {
    id: activity.id,
    subject: 'Intro',
    done: true,
    due_date: '2026-12-01'
  })
  t.same(await deleteActivity(client(), activity.id), { id: activity.id })
  t.same(await listPersonActivities(client(), person.id), [])
  t.equal(await status(patchActivity(client(), activity.id, { done: false })), 404)
  t.equal(await status(deleteActivity(client(), activity.id)), 404)
})
