import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { eventually } from '../harness/eventually.js'
import { freePort } from '../harness/processes.js'
import { startSandboxProcess } from '../harness/sandbox-process.js'
import { createDatabase } from '../harness/service-process.js'
import { sendEvent } from '../harness/signed-client.js'
import { startCompiledService } from './compiled-service.js'
import { activityEvent, contactEvent } from './events.js'
import { attributeCalls, describeCalls } from './sandbox-calls.js'
import { openServiceDb } from './service-db.js'
import { percentile } from './stats.js'

/**
 * Goals 2 and 3: end-to-end latency and calls per record, with the sandbox answering every call
 * in 300 ms and the service (compiled, worker on) on a fresh PostgreSQL database, at the
 * default rate budget (100 per 10 s, search 10 per 2 s), which this mix stays well under.
 *
 * Each second: one warm lead (alternately with a new organization — 4 calls — and with an
 * organization already in Pipedrive — 2 calls) and four activities for contacts already linked
 * (1 call each): 5 events/s, ~7 calls/s. Latency runs from just before the webhook is sent to the
 * `updated_at` of the row whose Pipedrive id was stored; overhead is that minus the sandbox-side
 * duration of the record's own calls. Every call of the measured window counts: for the record
 * it served (see sandbox-calls.ts), or as unattributed, which has a goal of its own.
 */
export const SANDBOX_LATENCY_MS = 300
const EVENTS_PER_SECOND = 5
const EVENT_INTERVAL_MS = 1_000 / EVENTS_PER_SECOND
const MEASURE_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 40)
const WARM_ORGS = 2
const CONTACTS_PER_WARM_ORG = 4
// The default budget counts a call for a whole window after it ends: let warm-up calls age out.
const DEFAULT_WINDOW_MS = 10_000
const BUDGET_MARGIN_MS = 500
const SETTLE_TIMEOUT_MS = 60_000

export interface LatencyMeasurement {
  lead: Series
  /** The leads of each kind alone: a new organization takes two calls and two round trips more. */
  leadNewOrg: Series
  leadKnownOrg: Series
  activity: Series
  calls: {
    newOrgMax: number
    knownOrgMax: number
    activityMax: number
    /** Calls that served none of the measured records (caches are warm by then: should be none). */
    unattributed: number
    unattributedCalls: string
    tooMany: number
  }
  events: number
}

interface Series {
  p50Ms: number
  p99Ms: number
  overheadP50Ms: number
  /** Where the overhead goes (medians): webhook sent → first call arrives, gaps between calls, last answer → id stored. */
  beforeFirstCallP50Ms: number
  betweenCallsP50Ms: number
  afterLastCallP50Ms: number
  count: number
}

interface Sent {
  token: string
  kind: 'newOrg' | 'knownOrg' | 'activity'
  sentAt: number
}

export async function measureLatency(adminUrl: string): Promise<LatencyMeasurement> {
  const run = randomUUID().slice(0, 6)
  // Whatever fails, everything started so far is stopped and dropped (no orphan processes).
  const cleanups: Array<() => Promise<unknown>> = []
  try {
    const database = await createDatabase(adminUrl)
    cleanups.unshift(() => database.drop())
    const sandbox = await startSandboxProcess({ port: await freePort() })
    cleanups.unshift(() => sandbox.stop())
    const service = await startCompiledService({
      DATABASE_URL: database.url,
      PIPEDRIVE_API_TOKEN: sandbox.token,
      PIPEDRIVE_BASE_URL: sandbox.url
    })
    cleanups.unshift(() => service.stop())
    const db = openServiceDb(database.url)
    cleanups.unshift(() => db.close())
    const send = async (event: unknown) => {
      const { status, body } = await sendEvent(service.url, event)
      if (status !== 202) throw new Error(`webhook answered ${status}: ${body}`)
    }

    // Warm-up at full speed: organizations, owner, label and activity types get known and cached.
    const warmOrgs = Array.from({ length: WARM_ORGS }, (_, i) => ({
      id: `o${run}-W${i}`,
      name: `Org ${run} W${i}`
    }))
    const targets: string[] = []
    for (const [round, org] of warmOrgs.entries()) {
      for (let i = 0; i < CONTACTS_PER_WARM_ORG; i++) {
        const id = `c${run}-W${round}${i}`
        targets.push(id)
        await send(contactEvent({ id, score: 4, org }))
        // The first contact of an organization links it; the others then find it known.
        if (i === 0) await waitForPersons(db, [id])
      }
    }
    await waitForPersons(db, targets)
    const warmActivity = `a${run}-W`
    await send(activityEvent(warmActivity, targets[0] as string))
    await waitForActivities(db, [warmActivity])
    await sleep(DEFAULT_WINDOW_MS + BUDGET_MARGIN_MS)

    await sandbox.setFaults({ latencyMs: SANDBOX_LATENCY_MS })
    const firstSeq = Math.max(0, ...(await sandbox.requests()).map((request) => request.seq))
    const sent: Sent[] = []
    const sending: Promise<void>[] = []
    const start = performance.now()
    const total = MEASURE_SECONDS * EVENTS_PER_SECOND
    for (let i = 0; i < total; i++) {
      const due = start + i * EVENT_INTERVAL_MS
      await sleep(Math.max(0, due - performance.now()))
      const second = Math.floor(i / EVENTS_PER_SECOND)
      let item: Sent
      let event: unknown
      if (i % EVENTS_PER_SECOND === 0) {
        const token = `c${run}-L${String(second).padStart(4, '0')}`
        const newOrg = second % 2 === 0
        const org = newOrg ? { id: `o${token}`, name: `Org ${token}` } : warmOrgs[second % WARM_ORGS]
        item = { token, kind: newOrg ? 'newOrg' : 'knownOrg', sentAt: Date.now() }
        event = contactEvent({ id: token, score: 4, ...(org ? { org } : {}) })
      } else {
        const token = `a${run}-A${String(i).padStart(4, '0')}`
        item = { token, kind: 'activity', sentAt: Date.now() }
        event = activityEvent(token, targets[i % targets.length] as string)
      }
      sent.push(item)
      sending.push(send(event))
    }
    await Promise.all(sending)
    const leads = sent.filter((item) => item.kind !== 'activity').map((item) => item.token)
    const activities = sent.filter((item) => item.kind === 'activity').map((item) => item.token)
    const personAt = await waitForPersons(db, leads)
    const activityAt = await waitForActivities(db, activities)

    const requests = (await sandbox.requests()).filter((request) => request.seq > firstSeq)
    const { byRecord, unattributed } = attributeCalls(
      requests,
      sent.map((item) => item.token),
      await sandbox.state()
    )
    const series = (items: Sent[], storedAt: Map<string, number>): Series => {
      const latencies = items.map((item) => (storedAt.get(item.token) as number) - item.sentAt)
      const overheads = items.map(
        (item, i) => (latencies[i] as number) - (byRecord.get(item.token)?.pipedriveMs ?? 0)
      )
      const phases = items.map((item) => {
        const calls = byRecord.get(item.token)?.calls ?? []
        const arrivals = calls.map((call) => Date.parse(call.at))
        const first = arrivals[0] ?? item.sentAt
        const lastCall = calls.at(-1)
        const lastEnd = lastCall ? Date.parse(lastCall.at) + (lastCall.durationMs ?? 0) : first
        const span = lastEnd - first
        const busy = calls.reduce((total, call) => total + (call.durationMs ?? 0), 0)
        return {
          before: first - item.sentAt,
          between: span - busy,
          after: (storedAt.get(item.token) as number) - lastEnd
        }
      })
      return {
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        overheadP50Ms: percentile(overheads, 50),
        beforeFirstCallP50Ms: percentile(
          phases.map((phase) => phase.before),
          50
        ),
        betweenCallsP50Ms: percentile(
          phases.map((phase) => phase.between),
          50
        ),
        afterLastCallP50Ms: percentile(
          phases.map((phase) => phase.after),
          50
        ),
        count: items.length
      }
    }
    const maxCalls = (kind: Sent['kind']) =>
      Math.max(
        ...sent
          .filter((item) => item.kind === kind)
          .map((item) => byRecord.get(item.token)?.calls.length ?? 0)
      )
    return {
      lead: series(
        sent.filter((item) => item.kind !== 'activity'),
        personAt
      ),
      leadNewOrg: series(
        sent.filter((item) => item.kind === 'newOrg'),
        personAt
      ),
      leadKnownOrg: series(
        sent.filter((item) => item.kind === 'knownOrg'),
        personAt
      ),
      activity: series(
        sent.filter((item) => item.kind === 'activity'),
        activityAt
      ),
      calls: {
        newOrgMax: maxCalls('newOrg'),
        knownOrgMax: maxCalls('knownOrg'),
        activityMax: maxCalls('activity'),
        unattributed: unattributed.length,
        unattributedCalls: describeCalls(unattributed),
        tooMany: requests.filter((request) => request.status === 429).length
      },
      events: sent.length
    }
  } finally {
    for (const cleanup of cleanups) await cleanup()
  }
}

async function waitForPersons(db: ReturnType<typeof openServiceDb>, ids: string[]) {
  return eventually(
    async () => {
      const stored = await db.personStoredAt(ids)
      return stored.size === ids.length && stored
    },
    SETTLE_TIMEOUT_MS,
    { what: `${ids.length} persons stored`, intervalMs: 100 }
  )
}

async function waitForActivities(db: ReturnType<typeof openServiceDb>, ids: string[]) {
  return eventually(
    async () => {
      const stored = await db.activityStoredAt(ids)
      return stored.size === ids.length && stored
    },
    SETTLE_TIMEOUT_MS,
    { what: `${ids.length} activities stored`, intervalMs: 100 }
  )
}
