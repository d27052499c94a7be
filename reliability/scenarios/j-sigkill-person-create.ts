import { eventually } from '../../harness/eventually.js'
import type { SandboxState } from '../../harness/sandbox-process.js'
import { operator } from '../../harness/signed-client.js'
import type { LoggedRequest } from '../../src/sandbox/request-log.js'
import { contactEvent, type Delivery } from '../events.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { deliver, inPool, Tally } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'

const CONTACTS = 32
// The sandbox makes each person at once and holds its answer back this long: creates pile up in
// flight, each one already made in Pipedrive, none of them known to the service.
const ANSWER_DELAY_MS = 5_000
const IN_FLIGHT_AT_KILL = 12
const SENDERS = 8
const KILL_WAIT_TIMEOUT_MS = 60_000
const SETTLE_TIMEOUT_MS = 60_000
const PERSONS_PATH = '/api/v2/persons'
const LATER_MS = Date.parse('2026-11-24T12:00:00.000Z')

interface Planned {
  index: number
  id: string
  name: string
  email: string | null
  organization: { id: string; name: string }
  delivery: Delivery
}

interface Status {
  state: string
  pipedrivePersonId?: string
  lastError?: string
}

/**
 * (j) SIGKILL while person creates are in flight: half the contacts have no email. The process dies
 * with every one of those creates made in Pipedrive and unanswered, and restarts on the same
 * database. Then: never two persons for a contact; a contact with email is looked up and linked
 * to its one person; a contact without email whose create was in flight stops for an operator
 * (dead, lastError saying what to check), is not created again, and is then settled as an
 * operator would: its person's id sent by the CRM when one exists, a replay of its job when none does.
 */
export async function sigkillPersonCreate(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('j. SIGKILL with person creates in flight')
  const plan: Planned[] = Array.from({ length: CONTACTS }, (_, n) => {
    const id = `j-c${n}`
    const email = n % 2 === 0 ? null : `${id}@reliability.test`
    const organization = { id: `j-o${n}`, name: `J Org ${n}` }
    const delivery = contactEvent(id, { organization, index: n, email })
    return { index: n, id, name: `Contact ${id}`, email, organization, delivery }
  })
  result.events = plan.length
  const stack = await Stack.start(suite, 'j')
  try {
    await stack.sandbox.setFaults({
      delayAnswer: { ms: ANSWER_DELAY_MS, method: 'POST', path: PERSONS_PATH }
    })
    const start = performance.now()
    const tally = new Tally()
    const url = () => stack.service.url
    await inPool(
      plan.map((contact) => contact.delivery),
      SENDERS,
      (delivery) => deliver(url, delivery, tally, { untilAccepted: true })
    )
    await eventually(
      async () => inFlight(await stack.sandbox.requests()).length >= IN_FLIGHT_AT_KILL,
      KILL_WAIT_TIMEOUT_MS,
      { what: `${IN_FLIGHT_AT_KILL} person creates in flight`, intervalMs: 20 }
    )
    await stack.service.kill()
    const cut = inFlight(await stack.sandbox.requests())
    await stack.sandbox.clearFaults()
    await stack.startService()

    await eventually(async () => (await stack.probe.unfinishedJobs()) === 0, SETTLE_TIMEOUT_MS, {
      what: 'every job finished',
      intervalMs: 250
    })
    const cutNames = new Set(cut.map((request) => (request.body as { name?: string } | null)?.name))
    const state = await stack.sandbox.state()
    const statuses = await statusesOf(url(), plan)
    const figures = checkAfterRestart(result, plan, state, statuses, cutNames)

    // The operator's turn, contact by contact: link the person found, or replay to create it.
    let linked = 0
    let replayed = 0
    for (const contact of plan) {
      const status = statuses.get(contact.id)
      if (status?.state !== 'dead') continue
      const person = personsNamed(state, contact.name)[0]
      if (person) {
        linked++
        const event = contactEvent(contact.id, {
          organization: contact.organization,
          index: contact.index,
          email: contact.email,
          pipedrivePersonId: person.id,
          updatedAtMs: LATER_MS
        })
        await deliver(url, event, tally, { untilAccepted: true })
      } else {
        replayed++
        const jobId = /\/api\/sync\/jobs\/(\d+)\/retry/.exec(status.lastError ?? '')?.[1]
        if (!jobId) result.failures.push(`${contact.id}: dead without a job to replay in its lastError`)
        else await operator(url(), 'POST', `/api/sync/jobs/${jobId}/retry`)
      }
    }
    await eventually(async () => (await stack.probe.unfinishedJobs()) === 0, SETTLE_TIMEOUT_MS, {
      what: 'every job finished again',
      intervalMs: 250
    })
    result.elapsedMs = performance.now() - start
    tally.into(result)
    const final = await statusesOf(url(), plan)
    const finalState = await stack.sandbox.state()
    for (const contact of plan) {
      const persons = personsNamed(finalState, contact.name)
      const status = final.get(contact.id)
      if (persons.length > 1) result.duplicated += persons.length - 1
      if (persons.length === 0) result.lost++
      if (status?.state !== 'synced' || status.pipedrivePersonId !== String(persons[0]?.id))
        result.failures.push(
          `${contact.id}: after the operator, ${status?.state} with ${persons.length} persons`
        )
    }
    if (result.duplicated > 0) result.failures.push(`${result.duplicated} persons too many`)
    if (tally.accepted.size < plan.length) result.failures.push('some events never got a 2xx')
    result.other =
      `creates in flight at the kill: ${cut.length} (${figures.cutWithoutEmail} without email); ` +
      `dead for an operator: ${figures.dead}; then linked ${linked}, replayed ${replayed}; ` +
      `persons per contact at most ${figures.maxPersons}`
    return result
  } finally {
    await stack.close()
  }
}

/** Person creates the sandbox has made but not yet answered. */
function inFlight(requests: LoggedRequest[]): LoggedRequest[] {
  return requests.filter(
    (request) => request.method === 'POST' && request.path === PERSONS_PATH && request.status === null
  )
}

function personsNamed(state: SandboxState, name: string) {
  return state.persons.filter((person) => person.name === name)
}

async function statusesOf(url: string, plan: Planned[]): Promise<Map<string, Status>> {
  const statuses = new Map<string, Status>()
  for (const contact of plan)
    statuses.set(contact.id, await operator<Status>(url, 'GET', `/api/contacts/${contact.id}/sync-status`))
  return statuses
}

/** What must hold once the restarted service has finished every job, before any operator acts. */
function checkAfterRestart(
  result: ScenarioResult,
  plan: Planned[],
  state: SandboxState,
  statuses: Map<string, Status>,
  cutNames: Set<string | undefined>
) {
  let maxPersons = 0
  let dead = 0
  let cutWithoutEmail = 0
  for (const contact of plan) {
    const persons = personsNamed(state, contact.name)
    const status = statuses.get(contact.id)
    maxPersons = Math.max(maxPersons, persons.length)
    if (persons.length > 1) result.failures.push(`${contact.id}: ${persons.length} persons`)
    if (status?.state === 'dead') dead++
    if (contact.email !== null) {
      if (
        status?.state !== 'synced' ||
        persons.length !== 1 ||
        status.pipedrivePersonId !== String(persons[0]?.id)
      )
        result.failures.push(`${contact.id} (email): ${status?.state} with ${persons.length} persons`)
    } else if (cutNames.has(contact.name)) {
      cutWithoutEmail++
      if (
        status?.state !== 'dead' ||
        !/without an email and its outcome is unknown/.test(status.lastError ?? '')
      )
        result.failures.push(`${contact.id} (no email, create cut): ${status?.state}, ${status?.lastError}`)
    } else if (
      status?.state === 'synced' ? persons.length !== 1 : status?.state !== 'dead' || persons.length !== 0
    ) {
      result.failures.push(`${contact.id} (no email): ${status?.state} with ${persons.length} persons`)
    }
  }
  if (cutWithoutEmail === 0)
    result.failures.push('no create of a contact without email was cut: nothing was tested')
  return { maxPersons, dead, cutWithoutEmail }
}
