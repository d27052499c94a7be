import { outOfOrder } from '../audit.js'
import { checkIntake, checkRecords } from '../checks.js'
import type { Delivery, PlannedContact } from '../events.js'
import { planContacts } from '../events.js'
import { seededRandom } from '../prng.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

// 250 contacts × (1 + 3 activities) = 1,000 events: half of (a), as two instances share one
// 2-core machine with PostgreSQL and the sandbox.
const CONTACTS = 250
const ACTIVITIES_EACH = 3
const REDELIVERED_SHARE = 0.2
const SENDERS = 32
const SETTLE_TIMEOUT_MS = 180_000
const SEED = 0x2b
const REQUESTS_METRIC = /^pipedrive_sync_pipedrive_requests_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm

/**
 * (h) Two service processes on one database, the load split between them: each event goes to
 * one instance, its redelivery (20 %) to the other at the same moment. One contact's events are
 * sent in order (the next after the previous got its 2xx), contacts in parallel, so the order of
 * each contact's activities in Pipedrive must be the order they were sent.
 */
export async function twoInstances(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('h. two instances, one database')
  const random = seededRandom(SEED)
  const plan = planContacts('h', CONTACTS, ACTIVITIES_EACH, 2)
  result.events = plan.length * (1 + ACTIVITIES_EACH)
  const stack = await Stack.start(suite, 'h', 2)
  try {
    const [first, second] = stack.services
    if (!first || !second) throw new Error('two instances expected')
    const urls = [first.url, second.url]
    const start = performance.now()
    const tally = new Tally()
    let redelivered = 0
    await inPool(plan, SENDERS, async (contact: PlannedContact) => {
      const sequence: Delivery[] = [
        contact.delivery,
        ...contact.activities.map((activity) => activity.delivery)
      ]
      for (const [index, delivery] of sequence.entries()) {
        const instance = (Number(contact.id.slice(3)) + index) % 2
        const sends = [deliver(() => urls[instance] as string, delivery, tally)]
        if (random() < REDELIVERED_SHARE) {
          redelivered++
          sends.push(deliver(() => urls[1 - instance] as string, delivery, tally))
        }
        await Promise.all(sends)
      }
    })
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, result.events)
    await checkRecords(result, stack, audit)
    const disorder = outOfOrder(await stack.sandbox.state(), plan)
    if (disorder.length > 0)
      result.failures.push(
        `${disorder.length} contacts' activities out of order: ${disorder.slice(0, 3).join('; ')}`
      )
    const calls = await Promise.all(stack.services.map((service) => pipedriveCalls(service.url)))
    if (calls.some((count) => count === 0))
      result.failures.push(`an instance did no Pipedrive work: ${calls.join('/')}`)
    result.other = `${redelivered} redelivered to the other instance; Pipedrive calls per instance ${calls.join('/')}; order kept for ${plan.length - disorder.length}/${plan.length}`
    return result
  } finally {
    await stack.close()
  }
}

/** Pipedrive calls one instance made, from its own /metrics (per-process counters). */
async function pipedriveCalls(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let total = 0
  for (const match of text.matchAll(REQUESTS_METRIC)) total += Number(match[1])
  return total
}
