import { sendEvent } from '../../harness/signed-client.js'
import { contactEvent } from '../events.js'
import { type FuzzCase, fuzzCases } from '../fuzz-cases.js'
import { seededRandom } from '../prng.js'
import { emptyResult, type ScenarioResult } from '../result.js'
import { inPool } from '../send.js'
import { Stack } from '../stack.js'
import type { Suite } from '../suite.js'
import { storableEdgeEvent } from '../unstorable-cases.js'

const FORGED = 1_500
// Valid events mixed in: the inbox must grow by exactly these. Every other one is at the edge of
// what can be stored (largest exact ids, 64 levels, the largest offset).
const VALID_EVERY = 25
const SENDERS = 8
const SEED = 0xf022
const MIN_SIGNATURE_CHARS = 16

/**
 * (f) ≥ 1,000 forged or malformed requests from a seeded PRNG → every one a 4xx (the status for
 * its kind), never a 5xx, and none stored: the inbox grows by the valid events only. Among them
 * the unstorable input (signed, schema-looking events the database cannot hold): each a 400, and
 * its body never in a log (scenario g looks for each one's marker).
 */
export async function forgedRequests(suite: Suite): Promise<ScenarioResult> {
  const result = emptyResult('f. forged/malformed requests (fuzz)')
  const cases = fuzzCases(seededRandom(SEED), FORGED)
  // Forged signatures too must never reach a log (short fragments like "zzz" prove nothing).
  for (const fuzz of cases)
    for (const entry of (fuzz.headers['webhook-signature'] ?? '').split(' ')) {
      const value = entry.split(',', 2)[1] ?? entry
      if (value.length >= MIN_SIGNATURE_CHARS) suite.signatures.add(value)
    }
  for (const [index, fuzz] of cases.entries())
    if (fuzz.marker) suite.secrets.set(`request body of ${fuzz.kind} (#${index})`, fuzz.marker)
  const stack = await Stack.start(suite, 'f')
  try {
    const inboxBefore = await stack.probe.inboxRows()
    const entitiesBefore = await stack.probe.storedEntities()
    const start = performance.now()
    const byKind = new Map<string, { sent: number; unexpected: number }>()
    const unexpected: string[] = []
    const work: Array<FuzzCase | number> = cases.flatMap((fuzz, i) =>
      i % VALID_EVERY === 0 ? [i, fuzz] : [fuzz]
    )
    let validAccepted = 0
    await inPool(work, SENDERS, async (item) => {
      if (typeof item === 'number') {
        const { event } = contactEvent(`f-valid-${item}`, {
          organization: { id: 'f-valid', name: 'F Valid' },
          score: 1
        })
        const edge = (item / VALID_EVERY) % 2 === 1
        const { status } = await sendEvent(stack.service.url, edge ? storableEdgeEvent(event, item) : event)
        if (status === 202) validAccepted++
        else unexpected.push(`${edge ? 'storable-edge' : 'valid'} event answered ${status}`)
        return
      }
      const status = await send(stack.service.url, item)
      result.sent++
      if (status === undefined) result.noAnswer++
      else if (status >= 200 && status < 300) result.ok2xx++
      else if (status >= 400 && status < 500) result.c4xx++
      else if (status >= 500) result.c5xx++
      const tally = byKind.get(item.kind) ?? { sent: 0, unexpected: 0 }
      tally.sent++
      const ok =
        item.expect === undefined
          ? status !== undefined && status >= 400 && status < 500
          : status === item.expect
      if (!ok) {
        tally.unexpected++
        if (unexpected.length < 10)
          unexpected.push(`${item.kind}: ${status ?? 'no answer'} (expected ${item.expect ?? '4xx'})`)
      }
      byKind.set(item.kind, tally)
    })
    result.elapsedMs = performance.now() - start
    result.events = FORGED
    const validSent = work.filter((item) => typeof item === 'number').length
    const inboxGrowth = (await stack.probe.inboxRows()) - inboxBefore
    const entityGrowth = (await stack.probe.storedEntities()) - entitiesBefore

    if (result.c4xx !== FORGED)
      result.failures.push(`${FORGED - result.c4xx} forged requests were not answered 4xx`)
    if (result.c5xx > 0) result.failures.push(`${result.c5xx} answers were 5xx`)
    if (unexpected.length > 0)
      result.failures.push(`statuses other than the documented ones: ${unexpected.join('; ')}`)
    if (inboxGrowth !== validSent)
      result.failures.push(
        `inbox grew by ${inboxGrowth} rows for ${validSent} valid events: forged requests were stored`
      )
    if (entityGrowth !== validSent)
      result.failures.push(`contacts/activities grew by ${entityGrowth} for ${validSent} valid events`)
    if (validAccepted !== validSent)
      result.failures.push(`${validSent - validAccepted} valid events not accepted`)
    const unstorable = [...byKind].filter(([kind]) => kind.startsWith('unstorable'))
    const unstorableSent = unstorable.reduce((sum, [, tally]) => sum + tally.sent, 0)
    const unstorableUnexpected = unstorable.reduce((sum, [, tally]) => sum + tally.unexpected, 0)
    result.other = `${byKind.size} kinds, ${unstorableSent} unstorable in ${unstorable.length} kinds (${unstorableSent - unstorableUnexpected} answered 400); inbox +${inboxGrowth} (= ${validSent} valid mixed in, ${Math.floor(validSent / 2)} at the storable edge)`
    return result
  } finally {
    await stack.close()
  }
}

async function send(baseUrl: string, fuzz: FuzzCase): Promise<number | undefined> {
  try {
    const response = await fetch(`${baseUrl}${fuzz.path}`, {
      method: fuzz.method,
      headers: fuzz.headers,
      ...(fuzz.body === undefined ? {} : { body: new Uint8Array(fuzz.body) })
    })
    await response.arrayBuffer()
    return response.status
  } catch (error) {
    if (process.env.RELIABILITY_DEBUG) console.error(fuzz.kind, (error as Error).cause ?? error)
    return undefined
  }
}
