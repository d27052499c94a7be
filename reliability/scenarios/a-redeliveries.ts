import { checkIntake, checkRecords } from '../checks.js'
import { deliveriesOf, planContacts } from '../events.js'
import { seededRandom, shuffle } from '../prng.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

// 400 warm contacts × (1 + 4 activities) = 2,000 events; two contacts per organization.
const CONTACTS = 400
const ACTIVITIES_EACH = 4
const CONTACTS_PER_ORGANIZATION = 2
const REDELIVERED_SHARE = 0.2
const SENDERS = 32
const SETTLE_TIMEOUT_MS = 120_000
const SEED = 0xa11ce

/** (a) 2,000 events, 20 % redelivered with the same webhook-id, all shuffled. */
export async function redeliveries(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('a. 2,000 events, 20 % redelivered, shuffled')
  const random = seededRandom(SEED)
  const plan = planContacts('a', CONTACTS, ACTIVITIES_EACH, CONTACTS_PER_ORGANIZATION)
  const originals = deliveriesOf(plan)
  const redelivered = originals.filter(() => random() < REDELIVERED_SHARE)
  const sends = shuffle(random, [...originals, ...redelivered])
  result.events = originals.length

  const stack = await Stack.start(suite, 'a')
  try {
    const start = performance.now()
    const tally = new Tally()
    await inPool(sends, SENDERS, (delivery) => deliver(() => stack.service.url, delivery, tally))
    const intakeMs = performance.now() - start
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, originals.length)
    await checkRecords(result, stack, audit)
    const duplicateAnswers = tally.ok2xx - tally.accepted.size
    result.other = `${redelivered.length} redelivered; intake ${(intakeMs / 1000).toFixed(1)} s; ${duplicateAnswers} extra 2xx were duplicates`
    return result
  } finally {
    await stack.close()
  }
}
