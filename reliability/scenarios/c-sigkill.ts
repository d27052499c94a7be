import { eventually } from '../../harness/eventually.js'
import { checkIntake, checkRecords } from '../checks.js'
import { deliveriesOf, planContacts } from '../events.js'
import { randomInt, seededRandom, shuffle } from '../prng.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

const CONTACTS = 150
const ACTIVITIES_EACH = 3
const KILLS = 5
// Each kill lands after this many more Pipedrive requests since the last start: mid-sync.
const MIN_REQUESTS_BEFORE_KILL = 30
const MAX_REQUESTS_BEFORE_KILL = 120
// Slows each Pipedrive answer so a kill finds calls in flight.
const SANDBOX_LATENCY_MS = 20
const SENDERS = 16
const KILL_WAIT_TIMEOUT_MS = 60_000
const SETTLE_TIMEOUT_MS = 180_000
const SEED = 0xc0ffee

/**
 * (c) SIGKILL the service mid-sync 5 times, restarting it on the same database each time. The
 * sender behaves like the CRM: a webhook without a 2xx (the process was gone) is sent again with
 * the same webhook-id. Afterwards every job is done and every record exists exactly once.
 */
export async function sigkill(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('c. SIGKILL mid-sync ×5, restart')
  const random = seededRandom(SEED)
  const plan = planContacts('c', CONTACTS, ACTIVITIES_EACH, 2)
  const deliveries = shuffle(random, deliveriesOf(plan))
  result.events = deliveries.length
  const stack = await Stack.start(suite, 'c')
  try {
    await stack.sandbox.setFaults({ latencyMs: SANDBOX_LATENCY_MS })
    const start = performance.now()
    const tally = new Tally()
    const sending = inPool(deliveries, SENDERS, (delivery) =>
      deliver(() => stack.service.url, delivery, tally, { untilAccepted: true })
    )
    const interrupted: number[] = []
    for (let kill = 1; kill <= KILLS; kill++) {
      const before = (await stack.sandbox.requests()).length
      const target = before + randomInt(random, MIN_REQUESTS_BEFORE_KILL, MAX_REQUESTS_BEFORE_KILL)
      await eventually(async () => (await stack.sandbox.requests()).length >= target, KILL_WAIT_TIMEOUT_MS, {
        what: `${target} Pipedrive requests before kill ${kill}`,
        intervalMs: 20
      })
      interrupted.push((await stack.probe.jobStates()).running ?? 0)
      await stack.service.kill()
      await stack.startService()
    }
    await sending
    await stack.sandbox.clearFaults()
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, deliveries.length)
    await checkRecords(result, stack, audit)
    if (interrupted.every((running) => running === 0))
      result.failures.push('no kill found a job running: the scenario did not test a crash mid-sync')
    result.other = `${KILLS} kills; jobs running at each kill: ${interrupted.join('/')}`
    return result
  } finally {
    await stack.close()
  }
}
