import { setTimeout as sleep } from 'node:timers/promises'
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
  testDatabase,
  testSandbox,
  uid,
  waitForState
} from '../helper.js'

const JOB_LEASE_MS = 600
// Every Pipedrive answer takes longer than a whole lease: a search and a create take two.
const LATENCY_MS = 1_000

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const app = await build(t, database, {
  config: sandboxConfig(sandbox, { JOB_LEASE_MS: String(JOB_LEASE_MS) }),
  pollIntervalMs: 20
})

const leaseOf = async (organizationId: string) =>
  (
    await rows<{ token: string | null; held: boolean; pipedrive_org_id: number | null }>(
      app.db,
      sql`select l.token::text as token, coalesce(l.until > now(), false) as held, o.pipedrive_org_id
          from organizations o left join leases l on l.name = 'organization:' || o.id
          where o.id = ${organizationId}`
    )
  )[0]

t.test(
  'an organization lease outlives its initial length while its job runs: one organization',
  async (t) => {
    const organization = { id: uid('o'), name: uid('Slow Org') }
    sandbox.faults.set({ latencyMs: LATENCY_MS })
    t.teardown(() => sandbox.faults.clear())
    const first = contactEvent({ email: `${uid('first')}@example.com`, organization })
    await postWebhook(app, first)
    const claimed = await eventually(async () => (await leaseOf(organization.id))?.token)
    const claimedAt = Date.now()

    // The second contact of the organization starts once the first lease would have lapsed, while
    // the first job's search is still on its way: without renewal it would search and create too.
    await sleep(JOB_LEASE_MS + 100)
    const second = contactEvent({ email: `${uid('second')}@example.com`, organization })
    await postWebhook(app, second)

    await sleep(Math.max(0, claimedAt + 2 * JOB_LEASE_MS - Date.now()))
    const later = await leaseOf(organization.id)
    t.ok(Date.now() - claimedAt >= 2 * JOB_LEASE_MS, 'checked two lease lengths after the claim')
    t.same(
      { token: later?.token, held: later?.held, pipedriveOrgId: later?.pipedrive_org_id },
      { token: claimed, held: true, pipedriveOrgId: null },
      'still held by the first job, renewed with its heartbeat'
    )

    const statuses = await Promise.all(
      [first, second].map((event) =>
        waitForState(() => contactStatus(app, event.data.id), ['synced', 'dead'])
      )
    )
    t.same(
      statuses.map((s) => s.state),
      ['synced', 'synced']
    )
    const orgs = sandbox.store.organizations.filter((org) => org.name === organization.name)
    t.equal(orgs.length, 1, 'one organization in Pipedrive')
    t.same(
      statuses.map((s) => s.pipedriveOrgId),
      [String(orgs[0]?.id), String(orgs[0]?.id)]
    )
    t.match(await leaseOf(organization.id), { token: null, pipedrive_org_id: orgs[0]?.id }, 'lease ended')
  }
)
