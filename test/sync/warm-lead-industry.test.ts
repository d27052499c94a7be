/**
 * The CRM's industry on the Pipedrive organization a warm lead creates: the standard `industry`
 * field of a current account (an option id, top level), and the custom "Industry" field of an
 * older account that has no standard one. Checked in what the sandbox received.
 */
import t from 'tap'
import { CUSTOM_INDUSTRY_FIELD_CODE } from '../../src/sandbox/company.js'
import type { Sandbox } from '../../src/sandbox/server.js'
import {
  build,
  contactEvent,
  contactStatus,
  postWebhook,
  sandboxConfig,
  testDatabase,
  testSandbox,
  uid,
  waitForState
} from '../helper.js'

/** A service on its own database and sandbox (an account of the given kind). */
async function stack(industryField: 'standard' | 'custom-text') {
  const database = await testDatabase(t)
  const sandbox = await testSandbox(t, { company: { industryField } })
  const app = await build(t, database, { config: sandboxConfig(sandbox), pollIntervalMs: 20 })
  /** Syncs a warm lead of a new organization with this industry; its status and what was sent. */
  const syncWarmLead = async (industry: string) => {
    const orgName = uid('Org')
    const event = contactEvent({
      email: `${uid('lead')}@example.com`,
      organization: { id: uid('o'), name: orgName, industry, country: 'DE' }
    })
    await postWebhook(app, event)
    const status = await waitForState(() => contactStatus(app, event.data.id), ['synced', 'dead'])
    return { status, sent: createBodies(sandbox, orgName), stored: orgsNamed(sandbox, orgName) }
  }
  return { sandbox, syncWarmLead }
}

const createBodies = (sandbox: Sandbox, name: string) =>
  sandbox.requests
    .filter((r) => r.method === 'POST' && r.path === '/api/v2/organizations')
    .map((r) => r.body as Record<string, unknown>)
    .filter((body) => body.name === name)
const orgsNamed = (sandbox: Sandbox, name: string) =>
  sandbox.store.organizations.filter((o) => o.name === name)

const current = await stack('standard')
const softwareId = current.sandbox.store.organizationFields
  .find((field) => field.field_code === 'industry')
  ?.options?.find((option) => option.label === 'Software')?.id

t.test('industry "software": the standard field set to the "Software" option id', async (t) => {
  t.ok(softwareId, 'the sandbox account has a "Software" option')
  const { status, sent, stored } = await current.syncWarmLead('software')
  t.equal(status.state, 'synced')
  t.equal(status.warning, undefined, 'no warning')
  t.equal(sent.length, 1)
  t.equal(sent[0]?.industry, softwareId, 'sent top level as the option id')
  t.notOk('custom_fields' in (sent[0] ?? {}), 'nothing in custom_fields')
  t.equal(stored[0]?.industry, softwareId)
})

t.test('an industry that is not an option: synced with a warning, the field left out', async (t) => {
  const { status, sent, stored } = await current.syncWarmLead('Basket weaving')
  t.equal(status.state, 'synced')
  t.match(status.warning, /industry "Basket weaving" left out: not an option of the Pipedrive industry field/)
  t.equal(sent.length, 1)
  t.notOk('industry' in (sent[0] ?? {}) || 'custom_fields' in (sent[0] ?? {}), 'no industry sent')
  t.equal(stored[0]?.industry, null)
})

t.test('an older account with only a custom "Industry" field still gets the industry', async (t) => {
  const older = await stack('custom-text')
  const { status, sent, stored } = await older.syncWarmLead('Software')
  t.equal(status.state, 'synced')
  t.equal(status.warning, undefined, 'no warning')
  t.same(sent[0]?.custom_fields, { [CUSTOM_INDUSTRY_FIELD_CODE]: 'Software' })
  t.notOk('industry' in (sent[0] ?? {}), 'no standard field on that account')
  t.same(stored[0]?.custom_fields, { [CUSTOM_INDUSTRY_FIELD_CODE]: 'Software' })
})
