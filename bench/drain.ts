import { randomUUID } from 'node:crypto'
import { eventually } from '../harness/eventually.js'
import { freePort } from '../harness/processes.js'
import { startSandboxProcess } from '../harness/sandbox-process.js'
import { createDatabase, HARNESS_SECRET } from '../harness/service-process.js'
import { sendEvent } from '../harness/signed-client.js'
import { startCompiledService } from './compiled-service.js'
import { activityEvent, contactEvent } from './events.js'
import { startServer } from './load.js'
import { peakRssMb } from './rss.js'
import { attributeCalls, describeCalls } from './sandbox-calls.js'
import { openServiceDb } from './service-db.js'

/**
 * Goal 4: a backlog of 1,000 mixed events, queued through the real intake with no worker running,
 * then drained by the service (compiled, as production runs it) started afterwards, with the budget scaled from
 * 100 per 10 s to 100 per 1 s (search from 10 per 2 s to 50 per 1 s, the same ratio) on both the
 * service and the sandbox. The mix: 250 warm leads each with a new organization (4 calls), 250
 * cold contacts (none) and 500 activities, two per warm lead (1 call each; they wait for the
 * person). Drain time runs from the first Pipedrive request to the last id stored.
 */
export const LIMIT = 100
export const WINDOW_MS = 1_000
export const SEARCH_LIMIT = 50
const LEADS = 250
const ACTIVITIES_PER_LEAD = 2
const NEW_ORG_CALLS = 4
const NEW_ORG_SEARCHES = 2
const SEND_CONCURRENCY = 20
/**
 * The calls that serve no record and may still happen: one load each of the label field, the
 * industry field and the activity types (single-flight caches), and the owner's look-up once per
 * worker slot (16 by default) that starts before the first answer is stored — every event here has
 * the same owner.
 */
export const CACHE_FILL_CALLS = 3 + 16
const DRAIN_TIMEOUT_MS = 180_000
const POLL_MS = 100

export interface DrainMeasurement {
  events: number
  drainMs: number
  /** From the service process's spawn to the last id stored. */
  drainFromSpawnMs: number
  theoreticalMs: number
  expectedCalls: number
  calls: number
  /** Calls that served no record (the look-ups that fill the caches): a goal of their own. */
  unattributed: number
  unattributedCalls: string
  /** The most calls any one warm lead or activity took (allowed: 4 and 1). */
  leadMaxCalls: number
  activityMaxCalls: number
  tooMany: number
  deadJobs: number
  servicePeakRssMb: number
}

/** The earliest the last of `calls` calls can start: every `limit` calls need one more window. */
export function minimumMs(calls: number, limit: number, windowMs: number): number {
  return Math.max(0, Math.ceil(calls / limit) - 1) * windowMs
}

export async function measureDrain(adminUrl: string): Promise<DrainMeasurement> {
  const run = randomUUID().slice(0, 6)
  const database = await createDatabase(adminUrl)
  const db = openServiceDb(database.url)
  const leads = Array.from({ length: LEADS }, (_, i) => `c${run}-D${String(i).padStart(4, '0')}`)
  const colds = leads.map((_, i) => `c${run}-K${String(i).padStart(4, '0')}`)
  const activities = leads.flatMap((_, i) =>
    Array.from({ length: ACTIVITIES_PER_LEAD }, (_, k) => `a${run}-D${String(i).padStart(4, '0')}${k}`)
  )
  try {
    const intake = await startServer('intake-only', {
      DATABASE_URL: database.url,
      WEBHOOK_SECRETS: HARNESS_SECRET,
      PIPEDRIVE_API_TOKEN: 'bench',
      PIPEDRIVE_BASE_URL: 'http://127.0.0.1:9'
    })
    try {
      const groups = leads.map((lead, i) => [
        contactEvent({ id: lead, score: 4, org: { id: `o${lead}`, name: `Org ${lead}` } }),
        contactEvent({ id: colds[i] as string, score: 2 }),
        ...activities
          .slice(i * ACTIVITIES_PER_LEAD, (i + 1) * ACTIVITIES_PER_LEAD)
          .map((id) => activityEvent(id, lead))
      ])
      let next = 0
      const worker = async () => {
        for (let group = groups[next++]; group; group = groups[next++]) {
          for (const event of group) {
            const { status, body } = await sendEvent(intake.url, event)
            if (status !== 202) throw new Error(`webhook answered ${status}: ${body}`)
          }
        }
      }
      await Promise.all(Array.from({ length: SEND_CONCURRENCY }, worker))
    } finally {
      await intake.stop()
    }

    const sandbox = await startSandboxProcess({
      port: await freePort(),
      rateLimit: { limit: LIMIT, windowMs: WINDOW_MS, searchLimit: SEARCH_LIMIT, searchWindowMs: WINDOW_MS }
    })
    const spawnedAt = Date.now()
    try {
      const service = await startCompiledService({
        DATABASE_URL: database.url,
        PIPEDRIVE_API_TOKEN: sandbox.token,
        PIPEDRIVE_BASE_URL: sandbox.url,
        PIPEDRIVE_RATE_LIMIT: String(LIMIT),
        PIPEDRIVE_RATE_WINDOW_MS: String(WINDOW_MS),
        PIPEDRIVE_SEARCH_RATE_LIMIT: String(SEARCH_LIMIT),
        PIPEDRIVE_SEARCH_RATE_WINDOW_MS: String(WINDOW_MS)
      })
      try {
        const [personAt, activityAt] = await eventually(
          async () => {
            const persons = await db.personStoredAt(leads)
            const replicas = await db.activityStoredAt(activities)
            return persons.size === leads.length && replicas.size === activities.length && [persons, replicas]
          },
          DRAIN_TIMEOUT_MS,
          { what: 'the backlog drained', intervalMs: POLL_MS }
        )
        const states = await db.contactStates(colds)
        const coldsSettled = colds.filter((id) => states.get(id) === 'not_warm').length
        if (coldsSettled !== colds.length)
          throw new Error(`${colds.length - coldsSettled} cold contacts not settled`)
        const servicePeakRssMb = peakRssMb(service.pid)
        const requests = await sandbox.requests()
        const first = Math.min(...requests.map((request) => Date.parse(request.at)))
        const last = Math.max(...personAt.values(), ...activityAt.values())
        const { byRecord, unattributed } = attributeCalls(
          requests,
          [...leads, ...activities],
          await sandbox.state()
        )
        const maxCalls = (ids: string[]) => Math.max(...ids.map((id) => byRecord.get(id)?.calls.length ?? 0))
        // The calls the goals allow per record, plus the look-ups that fill the caches (bounded by
        // their own goal): a record's extra calls are not expected, so they count against the time.
        const expectedCalls = LEADS * NEW_ORG_CALLS + activities.length + unattributed.length
        const theoreticalMs = Math.max(
          minimumMs(expectedCalls, LIMIT, WINDOW_MS),
          minimumMs(LEADS * NEW_ORG_SEARCHES, SEARCH_LIMIT, WINDOW_MS)
        )
        const jobs = await db.jobCounts()
        return {
          events: leads.length + colds.length + activities.length,
          drainMs: last - first,
          drainFromSpawnMs: last - spawnedAt,
          theoreticalMs,
          expectedCalls,
          calls: requests.length,
          unattributed: unattributed.length,
          unattributedCalls: describeCalls(unattributed),
          leadMaxCalls: maxCalls(leads),
          activityMaxCalls: maxCalls(activities),
          tooMany: requests.filter((request) => request.status === 429).length,
          deadJobs: jobs.dead ?? 0,
          servicePeakRssMb
        }
      } finally {
        await service.stop()
      }
    } finally {
      await sandbox.stop()
    }
  } finally {
    await db.close()
    await database.drop()
  }
}
