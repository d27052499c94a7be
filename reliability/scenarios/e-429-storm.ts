import { waitUntil } from '../../harness/processes.js'
import type { LoggedRequest } from '../../src/sandbox/request-log.js'
import { checkIntake, checkRecords } from '../checks.js'
import { deliveriesOf, planContacts } from '../events.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

const CONTACTS = 80
const ACTIVITIES_EACH = 2
const SENDERS = 16
/** Waves of 429s, one after the other: how many requests each refuses, and the retry-after it asks. */
const WAVES = [
  { count: 8, retryAfterSeconds: 2 },
  { count: 12, retryAfterSeconds: 1 },
  { count: 6, retryAfterSeconds: 3 },
  { count: 12, retryAfterSeconds: 1 },
  { count: 8, retryAfterSeconds: 2 }
]
const WAVE_TIMEOUT_MS = 30_000
/**
 * A request that arrives this soon after a 429 may have left the client before the 429's answer
 * came back (calls run in parallel): it could not have known. Counted separately, not as a
 * breach. On a loaded 2-core machine the service's own log shows calls taking up to ~280 ms from
 * send to answer, so arrival lags sending by that much; a client that ignored retry-after would
 * still be caught, its next tries landing all through the 1–3 s window.
 */
const IN_FLIGHT_GRACE_MS = 300
// `at` in the sandbox log has millisecond resolution.
const CLOCK_TOLERANCE_MS = 5
const SETTLE_TIMEOUT_MS = 120_000

/**
 * (e) 429 storm: waves of 429 answers with `retry-after` while contacts and activities sync.
 * No job may die, and after every 429 the token sends nothing until its retry-after has passed.
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
    const waveStarts: Array<{ afterSeq: number; retryAfterSeconds: number }> = []
    const lastSeq = async () => (await stack.sandbox.requests()).at(-1)?.seq ?? 0
    const injected = async () => (await stack.sandbox.requests()).filter((r) => r.fault === 'failed').length
    const tally = new Tally()
    const sending = inPool(deliveries, SENDERS, (delivery) =>
      deliver(() => stack.service.url, delivery, tally)
    )
    let expected429 = 0
    for (const wave of WAVES) {
      waveStarts.push({ afterSeq: await lastSeq(), retryAfterSeconds: wave.retryAfterSeconds })
      await stack.sandbox.setFaults({ failNext: { ...wave, status: 429 } })
      expected429 += wave.count
      const target = expected429
      const consumed = await waitUntil(
        `429 wave of ${wave.count}`,
        async () => (await injected()) >= target,
        WAVE_TIMEOUT_MS,
        50
      ).then(
        () => true,
        () => false
      )
      // The work may finish before a wave is used up: the storm ends there.
      if (!consumed) break
    }
    await sending
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, deliveries.length)
    const jobs = await checkRecords(result, stack, audit)

    const log = await stack.sandbox.requests()
    const { breaches, inFlight, refused } = retryAfterBreaches(log, waveStarts)
    if (breaches.length > 0)
      result.failures.push(
        `${breaches.length} requests inside a retry-after window: ${breaches.slice(0, 3).join('; ')}`
      )
    if ((jobs.dead ?? 0) > 0) result.failures.push(`${jobs.dead} dead jobs`)
    result.other = `429s: ${refused}; requests inside retry-after: ${breaches.length} (+${inFlight} already in flight); dead: ${jobs.dead ?? 0}`
    return result
  } finally {
    await stack.close()
  }
}

function retryAfterBreaches(
  log: LoggedRequest[],
  waveStarts: Array<{ afterSeq: number; retryAfterSeconds: number }>
): { breaches: string[]; inFlight: number; refused: number } {
  const breaches = new Map<number, string>()
  const inFlight = new Set<number>()
  const refusals = log.filter((request) => request.status === 429)
  for (const refusal of refusals) {
    const wave = waveStarts.filter((start) => start.afterSeq < refusal.seq).at(-1)
    if (!wave) continue
    const refusedAt = Date.parse(refusal.at)
    const until = refusedAt + wave.retryAfterSeconds * 1_000 - CLOCK_TOLERANCE_MS
    for (const request of log) {
      if (request.seq <= refusal.seq || request.userId !== refusal.userId) continue
      const at = Date.parse(request.at)
      if (at >= until) continue
      if (at - refusedAt <= IN_FLIGHT_GRACE_MS) inFlight.add(request.seq)
      else
        breaches.set(
          request.seq,
          `#${request.seq} ${request.method} ${request.path} ${at - refusedAt} ms after 429 #${refusal.seq} (retry-after ${wave.retryAfterSeconds} s)`
        )
    }
  }
  for (const seq of breaches.keys()) inFlight.delete(seq)
  return { breaches: [...breaches.values()], inFlight: inFlight.size, refused: refusals.length }
}
