import { eventually } from '../../harness/eventually.js'
import { HARNESS_OPERATOR_KEY } from '../../harness/service-process.js'
import { checkIntake, checkRecords } from '../checks.js'
import { type Delivery, deliveriesOf, type PlannedContact, planContacts } from '../events.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

const VICTIMS = 10
const VICTIM_ACTIVITIES = 4
const UNRELATED = 80
const UNRELATED_ACTIVITIES = 2
// Slows each Pipedrive answer so the victims' later activities are still running at the replays.
const SANDBOX_LATENCY_MS = 250
const SENDERS = 16
const PHASE_TIMEOUT_MS = 60_000
const SETTLE_TIMEOUT_MS = 120_000

interface OperatorAnswer {
  status: number
  body: {
    queued?: number
    error?: string
    items?: Array<{ jobId: string; entity: string; id: string; state: string }>
  }
}

async function operator(baseUrl: string, method: 'GET' | 'POST', path: string): Promise<OperatorAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${HARNESS_OPERATOR_KEY}` }
  })
  return { status: response.status, body: (await response.json()) as OperatorAnswer['body'] }
}

function firstActivity(contact: PlannedContact): Delivery {
  const activity = contact.activities[0]
  if (!activity) throw new Error(`${contact.id} has no activity`)
  return activity.delivery
}

/**
 * (i) Operator replays under load. Ten contacts each get a dead activity (Pipedrive refuses its
 * create with a 400), then more activities that run slowly; while those run and 80 unrelated
 * contacts arrive, the operator replays the dead jobs — half one by one, then retry-dead, then
 * everything again. The claims never fail, the unrelated contacts keep syncing, and every record
 * exists exactly once (the replayed activities included).
 */
export async function operatorRetry(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('i. operator replays under load')
  const victims = planContacts('i-v', VICTIMS, VICTIM_ACTIVITIES)
  const unrelated = planContacts('i-u', UNRELATED, UNRELATED_ACTIVITIES)
  const plan = [...victims, ...unrelated]
  result.events = deliveriesOf(plan).length
  const stack = await Stack.start(suite, 'i')
  try {
    const url = () => stack.service.url
    const tally = new Tally()
    const send = (items: Delivery[]) =>
      inPool(items, SENDERS, (delivery) => deliver(url, delivery, tally, { untilAccepted: true }))
    const personSynced = (contact: PlannedContact) =>
      stack.callbacks
        .ofType('pipedrive.person.synced')
        .find((callback) => callback.data.contactId === contact.id)
    const start = performance.now()

    await send(victims.map((contact) => contact.delivery))
    await eventually(async () => victims.every(personSynced), PHASE_TIMEOUT_MS, {
      what: 'victims linked',
      intervalMs: 100
    })
    await stack.sandbox.setFaults({
      failNext: {
        count: VICTIMS,
        status: 400,
        message: 'Injected: activity refused',
        method: 'POST',
        path: '/api/v2/activities'
      }
    })
    await send(victims.map(firstActivity))
    await eventually(async () => ((await stack.probe.jobStates()).dead ?? 0) === VICTIMS, PHASE_TIMEOUT_MS, {
      what: 'every first activity dead',
      intervalMs: 100
    })

    await stack.sandbox.setFaults({ latencyMs: SANDBOX_LATENCY_MS })
    const victimIds = new Set(victims.map((contact) => contact.id))
    const later = Promise.all(
      victims.map(async (contact) => {
        for (const activity of contact.activities.slice(1)) await deliver(url, activity.delivery, tally)
      })
    )
    const busy = await eventually(
      async () => {
        const running = [...(await stack.probe.runningKeys())].filter((key) => victimIds.has(key)).length
        return running >= VICTIMS / 2 ? running : undefined
      },
      PHASE_TIMEOUT_MS,
      { what: 'victims with a running job', intervalMs: 10 }
    )
    const load = send(deliveriesOf(unrelated))

    const listed = await operator(url(), 'GET', '/api/sync/failures?limit=100')
    const dead = (listed.body.items ?? []).filter((item) => item.state === 'dead')
    const half = dead.slice(0, Math.ceil(dead.length / 2))
    const one = await Promise.all(
      half.map((item) => operator(url(), 'POST', `/api/sync/jobs/${item.jobId}/retry`))
    )
    const all = await operator(url(), 'POST', '/api/sync/retry-dead')
    const again = await Promise.all(
      dead.map((item) => operator(url(), 'POST', `/api/sync/jobs/${item.jobId}/retry`))
    )
    const allAgain = await operator(url(), 'POST', '/api/sync/retry-dead')
    const replayedAt = Date.now()

    await Promise.all([later, load])
    await eventually(async () => unrelated.every(personSynced), SETTLE_TIMEOUT_MS, {
      what: 'unrelated contacts linked',
      intervalMs: 100
    }).catch(() => {})
    const sinceReplays = unrelated
      .map((contact) => (personSynced(contact)?.at ?? Number.POSITIVE_INFINITY) - replayedAt)
      .filter((ms) => ms >= 0)
    const firstUnrelatedMs = Math.min(...sinceReplays)
    const lastUnrelatedMs = Math.max(...sinceReplays)
    await stack.sandbox.clearFaults()
    const audit = await stack.settle(plan, SETTLE_TIMEOUT_MS)
    result.elapsedMs = performance.now() - start
    checkIntake(result, tally, result.events)
    await checkRecords(result, stack, audit)

    const statuses = (answers: OperatorAnswer[]) => answers.map((answer) => answer.status)
    if (dead.length !== VICTIMS)
      result.failures.push(`failures listed ${dead.length} dead jobs, not ${VICTIMS}`)
    if (!one.every((answer) => answer.status === 202 && answer.body.queued === 1))
      result.failures.push(`retrying one job answered ${statuses(one).join(',')}, expected 202 queued 1`)
    if (all.status !== 202 || all.body.queued !== dead.length - half.length)
      result.failures.push(
        `retry-dead answered ${all.status} queued ${all.body.queued}, expected ${dead.length - half.length}`
      )
    if (!again.every((answer) => answer.status === 409))
      result.failures.push(`retrying replayed jobs answered ${statuses(again).join(',')}, expected 409`)
    if (allAgain.body.queued !== 0) result.failures.push(`retry-dead again queued ${allAgain.body.queued}`)
    const claimErrors = stack.services
      .map((service) => service.process.output().match(/claiming jobs failed/g)?.length ?? 0)
      .reduce((sum, count) => sum + count, 0)
    if (claimErrors > 0) result.failures.push(`claiming jobs failed ${claimErrors} times`)
    const deadReported = stack.callbacks
      .ofType('pipedrive.sync.failed')
      .filter((callback) => callback.data.dead === true).length
    if (deadReported !== VICTIMS)
      result.failures.push(`${deadReported} dead jobs reported to the CRM, expected ${VICTIMS}`)
    const synced = unrelated.filter(personSynced).length
    result.other =
      `dead ${dead.length} (contacts running another job: ${busy}); retry-one ${statuses(one).join('/')}, ` +
      `retry-dead queued ${all.body.queued}, again ${statuses(again)[0] ?? '-'}×${again.length} / queued ` +
      `${allAgain.body.queued}; claim errors ${claimErrors}; unrelated synced ${synced}/${UNRELATED}, ` +
      `first ${(firstUnrelatedMs / 1000).toFixed(1)} s and last ${(lastUnrelatedMs / 1000).toFixed(1)} s after the replays`
    return result
  } finally {
    await stack.close()
  }
}
