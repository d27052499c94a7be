import postgres from 'postgres'
import { eventually } from '../../harness/eventually.js'
import { checkIntake, checkRecords } from '../checks.js'
import { deliveriesOf, planContacts } from '../events.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

const CONTACTS = 60
const ACTIVITIES_EACH = 1
// Slow Pipedrive answers: the SIGTERM finds jobs in the middle of their calls.
const SANDBOX_LATENCY_MS = 300
const SENDERS = 8
// A callback taken and never answered: the shutdown has a request to abort. (One pass of the
// delivery loop waits for its batch, so while the CRM hangs, few requests are out at once.)
const HELD_BEFORE_SIGTERM = 1
const EXIT_LIMIT_MS = 10_000
const WAIT_TIMEOUT_MS = 60_000
const SETTLE_TIMEOUT_MS = 120_000
const CALLBACKS_TIMEOUT_MS = 30_000

interface OutboxCounts {
  undelivered: number
  locked: number
  pushed_back: number
}

/**
 * (k) SIGTERM while jobs are in flight and the CRM takes callbacks without ever answering them:
 * the service exits 0 within 10 s. The interrupted callbacks are left due (no lease held, no
 * backoff); after a restart, with the CRM answering again, every callback arrives and every
 * record exists once.
 */
export async function shutdown(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('k. SIGTERM, CRM never answers')
  const plan = planContacts('k', CONTACTS, ACTIVITIES_EACH)
  const deliveries = deliveriesOf(plan)
  result.events = deliveries.length
  const stack = await Stack.start(suite, 'k')
  const outbox = postgres(stack.env.DATABASE_URL as string, { max: 1, onnotice: () => {} })
  try {
    await stack.sandbox.setFaults({ latencyMs: SANDBOX_LATENCY_MS })
    stack.callbacks.holding = true
    const start = performance.now()
    const tally = new Tally()
    const sending = inPool(deliveries, SENDERS, (delivery) =>
      deliver(() => stack.service.url, delivery, tally, { untilAccepted: true })
    )
    await eventually(
      async () =>
        stack.callbacks.held >= HELD_BEFORE_SIGTERM && ((await stack.probe.jobStates()).running ?? 0) > 0,
      WAIT_TIMEOUT_MS,
      { what: `${HELD_BEFORE_SIGTERM} callbacks held by the CRM, and jobs running`, intervalMs: 20 }
    )
    const running = (await stack.probe.jobStates()).running ?? 0
    const held = stack.callbacks.held
    const stopStart = performance.now()
    const exitCode = await stack.service.stop()
    const exitMs = performance.now() - stopStart
    if (exitCode !== 0) result.failures.push(`exit code ${exitCode} on SIGTERM`)
    if (exitMs > EXIT_LIMIT_MS) result.failures.push(`exited ${Math.round(exitMs)} ms after SIGTERM`)

    const [left] = await outbox<OutboxCounts[]>`
      select count(*)::int as undelivered,
        count(*) filter (where locked_until > now())::int as locked,
        count(*) filter (where next_attempt_at > now() + interval '5 seconds')::int as pushed_back
      from callback_outbox where delivered_at is null`
    if ((left?.locked ?? 0) > 0) result.failures.push(`${left?.locked} callbacks still leased after exit`)
    if ((left?.pushed_back ?? 0) > 0)
      result.failures.push(`${left?.pushed_back} interrupted callbacks were pushed back by a backoff`)

    stack.callbacks.holding = false
    await stack.startService()
    await sending
    await stack.sandbox.clearFaults()
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    const expected = plan.length + plan.length * ACTIVITIES_EACH
    const synced = () =>
      stack.callbacks.ofType('pipedrive.person.synced').length +
      stack.callbacks.ofType('pipedrive.activity.synced').length
    await eventually(async () => synced() >= expected, CALLBACKS_TIMEOUT_MS, {
      what: 'every synced callback delivered',
      intervalMs: 100
    }).catch(() => undefined)
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, deliveries.length)
    await checkRecords(result, stack, audit)
    const missing = expected - synced()
    if (missing > 0) {
      result.lost += missing
      result.failures.push(`${missing} of ${expected} synced callbacks never reached the CRM`)
    }
    if (running === 0) result.failures.push('no job was running at the SIGTERM: nothing in flight was tested')
    result.other =
      `exit 0 in ${(exitMs / 1000).toFixed(1)} s with ${running} jobs running and ${held} callbacks unanswered; ` +
      `${left?.undelivered ?? 0} callbacks left due, ${left?.pushed_back ?? 0} backed off; ` +
      `after restart ${synced()}/${expected} synced callbacks`
    return result
  } finally {
    await outbox.end()
    await stack.close()
  }
}
