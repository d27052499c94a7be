import { checkIntake, checkRecords } from '../checks.js'
import { contactEvent, type PlannedContact } from '../events.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

const PARALLEL_EVENTS = 50
const SETTLE_TIMEOUT_MS = 30_000
const BASE_MS = Date.parse('2026-11-24T12:00:00.000Z')

/** (b) 50 events for one contact at once (distinct webhook-ids and updatedAt) → one person. */
export async function parallelContact(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('b. 50 parallel events, one contact')
  const organization = { id: 'b-o0', name: 'B Org 0' }
  const deliveries = Array.from({ length: PARALLEL_EVENTS }, (_, i) =>
    contactEvent('b-c0', { organization, updatedAtMs: BASE_MS + i * 1_000 })
  )
  const plan: PlannedContact[] = [
    {
      id: 'b-c0',
      email: 'b-c0@reliability.test',
      organizationName: organization.name,
      delivery: deliveries[0] as PlannedContact['delivery'],
      activities: []
    }
  ]
  result.events = deliveries.length
  const stack = await Stack.start(suite, 'b')
  try {
    const start = performance.now()
    const tally = new Tally()
    await Promise.all(deliveries.map((delivery) => deliver(() => stack.service.url, delivery, tally)))
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, deliveries.length)
    await checkRecords(result, stack, audit)
    const creates = (await stack.sandbox.requests()).filter(
      (request) =>
        request.method === 'POST' &&
        request.path === '/api/v2/persons' &&
        request.status !== null &&
        request.status < 300
    ).length
    if (creates !== 1) result.failures.push(`${creates} person creates answered 201, expected 1`)
    result.other = `person creates sent: ${creates}`
    return result
  } finally {
    await stack.close()
  }
}
