import t from 'tap'
import { NamedLeases } from '../../src/db/named-leases.js'
import { createPipedriveConnection } from '../../src/pipedrive/connection.js'
import type { CreateCoordinator } from '../../src/pipedrive/create-coordinator.js'
import { personLabelId } from '../../src/pipedrive/person-label.js'
import { testDatabase, testSandbox } from '../helper.js'

// Two tokens of one company (two users), each with its own account and caches, as two owners'
// contacts would use them — or two instances of the service.
const database = await testDatabase(t)
const sandbox = await testSandbox(t, { company: { warmLeadLabel: false } })
const CONFIG = {
  PIPEDRIVE_BASE_URL: sandbox.url,
  PIPEDRIVE_RATE_LIMIT: 1000,
  PIPEDRIVE_RATE_WINDOW_MS: 1000,
  PIPEDRIVE_SEARCH_RATE_LIMIT: 1000,
  PIPEDRIVE_SEARCH_RATE_WINDOW_MS: 1000,
  SYNC_RETRY_BASE_MS: 5
}
const V2_OPTIONS = '/api/v2/personFields/label_ids/options'

function accounts(t: { teardown(fn: () => unknown): void }, coordinator: CreateCoordinator) {
  const connection = createPipedriveConnection(CONFIG, { coordinator })
  t.teardown(() => connection.close())
  const tokens = sandbox.tokens
  return [
    connection.forToken(tokens['owner@crm.example'] ?? ''),
    connection.forToken(tokens['sales@crm.example'] ?? '')
  ] as const
}
const options = () => sandbox.store.labelField().options ?? []
const warmLeads = () => options().filter((option) => option.label.toLowerCase() === 'warm lead')
const sent = (method: string, path: string) =>
  sandbox.requests.filter((r) => r.method === method && r.path === path)

t.beforeEach(() => sandbox.reset({ company: { warmLeadLabel: false } }))

t.test('two tokens resolving a missing label at once create it once', async (t) => {
  const [owner, sales] = accounts(t, new NamedLeases(database.db))
  // Slow answers: both read "missing" before either has created it.
  sandbox.faults.set({ latencyMs: 50 })
  const ids = await Promise.all([personLabelId(owner, 'Warm Lead'), personLabelId(sales, 'Warm Lead')])
  t.equal(warmLeads().length, 1, 'one Warm Lead label')
  t.same(ids, [warmLeads()[0]?.id, warmLeads()[0]?.id], 'both use it')
  t.equal(sent('POST', V2_OPTIONS).length, 1, 'one create sent')
})

t.test('v1 fallback, two tokens at once: one label, and no option of the other is deleted', async (t) => {
  const [owner, sales] = accounts(t, new NamedLeases(database.db))
  const before = options().map((option) => option.id)
  sandbox.faults.set({ latencyMs: 50, failNext: { count: 2, status: 400, method: 'POST', path: V2_OPTIONS } })
  const ids = await Promise.all([personLabelId(owner, 'Warm Lead'), personLabelId(sales, 'Warm Lead')])
  t.equal(warmLeads().length, 1, 'one Warm Lead label')
  t.same(ids, [warmLeads()[0]?.id, warmLeads()[0]?.id], 'both ids exist and are the same')
  t.same(
    options()
      .map((option) => option.id)
      .filter((id) => before.includes(id)),
    before,
    'every option there before is still there'
  )
})

t.test('an option another writer added after the first read survives the v1 update', async (t) => {
  const leases = new NamedLeases(database.db)
  let added: number | undefined
  // Someone adds a label in Pipedrive after this process read the labels, before it creates its own.
  const meanwhile: CreateCoordinator = {
    exclusive: (name, work) =>
      leases.exclusive(name, (signal) => {
        added = sandbox.store.nextId('option')
        sandbox.store.labelField().options?.push({ id: added, label: 'Partner', color: null })
        return work(signal)
      })
  }
  const [owner] = accounts(t, meanwhile)
  sandbox.faults.set({ failNext: { count: 1, status: 400, method: 'POST', path: V2_OPTIONS } })
  const id = await personLabelId(owner, 'Warm Lead')
  t.equal(
    sandbox.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/api/v1/personFields/')).length,
    1,
    'the v1 update was used'
  )
  t.ok(
    options().some((option) => option.id === added && option.label === 'Partner'),
    'the other option is kept'
  )
  t.equal(warmLeads()[0]?.id, id)
})
