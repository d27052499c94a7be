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

// Long enough that a loaded machine's stalls (the heartbeat runs every third of it) do not lapse
// the job's own lease, which would hand the job and the organization to another run.
const JOB_LEASE_MS = 2_500
// The organization search's answer takes three lease lengths (still well inside the client's
// request timeout): the lease must be renewed while it is on its way. Only that call is slow, so
// the rest of both syncs does not stretch the test on a loaded machine.
const SEARCH_MS = 3 * JOB_LEASE_MS
// The polls of the test share the database with the heartbeat: not more often than needed.
const POLL_MS = 100
// Both contacts' syncs, with the slow search: time to finish on a loaded machine.
const SYNC_TIMEOUT_MS = 60_000

const database = await testDatabase(t)
const sandbox = await testSandbox(t)
const app = await build(t, database, {
  config: sandboxConfig(sandbox, { JOB_LEASE_MS: String(JOB_LEASE_MS) }),
  // New work is notified; the claim loop's poll only adds queries beside the heartbeat's.
  pollIntervalMs: 200
})

// Times are the database's own (`now()` is what the lease is compared with), not the test's.
const leaseOf = async (organizationId: string) =>
  (
    await rows<{
      token: string | null
      held: boolean
      untilMs: number | null
      nowMs: number
      pipedrive_org_id: number | null
    }>(
      app.db,
      sql`select l.token::text as token, coalesce(l.until > now(), false) as held,
            (extract(epoch from l.until) * 1000)::float8 as "untilMs",
            (extract(epoch from now()) * 1000)::float8 as "nowMs", o.pipedrive_org_id
          from organizations o left join leases l on l.name = 'organization:' || o.id
          where o.id = ${organizationId}`
    )
  )[0]

t.test(
  'an organization lease outlives its initial length while its job runs: one organization',
  async (t) => {
    const organization = { id: uid('o'), name: uid('Slow Org') }
    sandbox.faults.set({
      delayAnswer: { ms: SEARCH_MS, method: 'GET', path: '/api/v2/organizations/search' }
    })
    t.teardown(() => sandbox.faults.clear())
    const first = contactEvent({ email: `${uid('first')}@example.com`, organization })
    await postWebhook(app, first)
    const claim = await eventually(
      async () => {
        const lease = await leaseOf(organization.id)
        return lease?.token ? lease : undefined
      },
      10_000,
      { what: 'the first job to take the organization lease', intervalMs: POLL_MS }
    )
    // The lease as taken ends at this moment or earlier (a renewal may already have moved it).
    const initialUntilMs = claim.untilMs as number

    // Waits until the database's clock reaches `ms`, or until the first job's lease is no longer
    // what it was (ended, lapsed or taken over): then what is read is asserted, not waited for.
    const leaseWhen = (ms: number, what: string) =>
      eventually(
        async () => {
          const lease = await leaseOf(organization.id)
          const unchanged = lease?.token === claim.token && lease.held && lease.pipedrive_org_id === null
          return lease && (lease.nowMs >= ms || !unchanged) ? lease : undefined
        },
        10_000,
        { what, intervalMs: POLL_MS }
      )

    // The second contact of the organization starts once the first lease would have lapsed, while
    // the first job's search is still on its way: without renewal it would search and create too.
    await leaseWhen(initialUntilMs, 'the end of the lease as it was taken')
    const second = contactEvent({ email: `${uid('second')}@example.com`, organization })
    await postWebhook(app, second)

    const later = await leaseWhen(initialUntilMs + JOB_LEASE_MS, 'two lease lengths after the claim')
    t.ok(later.nowMs - initialUntilMs >= JOB_LEASE_MS, 'checked two lease lengths after the claim')
    t.same(
      { token: later.token, held: later.held, pipedriveOrgId: later.pipedrive_org_id },
      { token: claim.token, held: true, pipedriveOrgId: null },
      'still held by the first job, renewed with its heartbeat'
    )

    const statuses = await Promise.all(
      [first, second].map((event) =>
        waitForState(() => contactStatus(app, event.data.id), ['synced', 'dead'], SYNC_TIMEOUT_MS)
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
