import { eventually } from '../../harness/eventually.js'
import { checkIntake, checkRecords } from '../checks.js'
import { deliveriesOf, planContacts } from '../events.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import {
  auditResends,
  injected429s,
  retryAfterBreaches,
  TRACEABLE_PATHS,
  type WaveStart
} from '../retry-after-audit.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

const CONTACTS = 80
const ACTIVITIES_EACH = 2
const SENDERS = 16
/**
 * Waves of 429s, one after the other: how many requests each refuses, and the retry-after it asks.
 * Two waves refuse organization searches only: a search can be traced to its resend (see
 * retry-after-audit.ts), so at least their refusals are checked one by one for a resend that
 * waited out its retry-after; the other waves refuse whatever comes (creates included).
 */
const ORGANIZATION_SEARCH = { method: 'GET', path: '/api/v2/organizations/search' }
const WAVES = [
  { count: 8, retryAfterSeconds: 2 },
  { count: 12, retryAfterSeconds: 1, ...ORGANIZATION_SEARCH },
  { count: 6, retryAfterSeconds: 3 },
  { count: 12, retryAfterSeconds: 1, ...ORGANIZATION_SEARCH },
  { count: 8, retryAfterSeconds: 2 }
]
const STORM_429S = WAVES.reduce((total, wave) => total + wave.count, 0)
const TRACEABLE_429S = WAVES.reduce(
  (total, wave) => total + ('path' in wave && TRACEABLE_PATHS.has(wave.path) ? wave.count : 0),
  0
)
const WAVE_TIMEOUT_MS = 30_000
const SETTLE_TIMEOUT_MS = 120_000

/**
 * (e) 429 storm: waves of 429 answers with `retry-after` while contacts and activities sync.
 * Every wave must be served in full (a storm that never happened proves nothing). No job may die,
 * after every 429 the token sends nothing until its retry-after has passed, and every refused
 * search is sent again, after its retry-after.
 */
export async function rateLimitStorm(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('e. 429 storm (retry-after 1–3 s)')
  const plan = planContacts('e', CONTACTS, ACTIVITIES_EACH)
  const deliveries = deliveriesOf(plan)
  result.events = deliveries.length
  const stack = await Stack.start(suite, 'e')
  try {
    const start = performance.now()
    // Which wave each 429 belongs to: the log's sequence numbers when each wave began.
    const waveStarts: WaveStart[] = []
    const lastSeq = async () => (await stack.sandbox.requests()).at(-1)?.seq ?? 0
    const injected = async () => (await stack.sandbox.requests()).filter((r) => r.fault === 'failed').length
    const tally = new Tally()
    const sending = inPool(deliveries, SENDERS, (delivery) =>
      deliver(() => stack.service.url, delivery, tally)
    )
    let expected429 = 0
    for (const [index, wave] of WAVES.entries()) {
      waveStarts.push({ afterSeq: await lastSeq(), retryAfterSeconds: wave.retryAfterSeconds })
      await stack.sandbox.setFaults({ failNext: { ...wave, status: 429 } })
      expected429 += wave.count
      const target = expected429
      const consumed = await eventually(async () => (await injected()) >= target, WAVE_TIMEOUT_MS, {
        what: `429 wave of ${wave.count}`,
        intervalMs: 50
      }).then(
        () => true,
        () => false
      )
      if (!consumed) {
        result.failures.push(
          `the storm stopped at wave ${index + 1}: ${await injected()} of ${STORM_429S} 429s served in all`
        )
        break
      }
    }
    await sending
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, deliveries.length)
    const jobs = await checkRecords(result, stack, audit)

    const log = await stack.sandbox.requests()
    const refused = injected429s(log, waveStarts)
    if (refused < STORM_429S) result.failures.push(`${refused} of ${STORM_429S} planned 429s were served`)
    const { breaches, inFlight } = retryAfterBreaches(log, waveStarts)
    if (breaches.length > 0)
      result.failures.push(
        `${breaches.length} requests inside a retry-after window: ${breaches.slice(0, 3).join('; ')}`
      )
    const resends = auditResends(log, waveStarts)
    if (resends.resent < TRACEABLE_429S)
      result.failures.push(
        `only ${resends.resent} refused searches were resent (at least ${TRACEABLE_429S} planned)`
      )
    if (resends.missing.length > 0)
      result.failures.push(`refused searches never resent: ${resends.missing.slice(0, 3).join('; ')}`)
    if (resends.early.length > 0)
      result.failures.push(`resent before retry-after: ${resends.early.slice(0, 3).join('; ')}`)
    if ((jobs.dead ?? 0) > 0) result.failures.push(`${jobs.dead} dead jobs`)
    const margin =
      resends.shortestMarginMs === undefined
        ? '–'
        : `${resends.shortestMarginMs >= 0 ? '+' : ''}${resends.shortestMarginMs} ms`
    result.other = `429s: ${refused}; refused searches resent after retry-after: ${resends.resent - resends.early.length}/${resends.resent + resends.missing.length} (closest ${margin}); requests inside retry-after: ${breaches.length} (+${inFlight} already in flight); dead: ${jobs.dead ?? 0}`
    return result
  } finally {
    await stack.close()
  }
}
