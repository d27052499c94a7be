import { randomBytes } from 'node:crypto'
import { type FuzzCase, post, signed, validEvent } from './fuzz-request.js'
import { pick, type Random } from './prng.js'

/**
 * Validly signed events that pass for the schema's at a glance but hold what PostgreSQL cannot
 * store: ids past 2^53 − 1 (64-bit columns, exact JavaScript numbers), durations past the 32-bit
 * column, NUL or lone surrogates in keys and values, nesting past 64 levels (and far past the
 * stack of a recursive check), numbers jsonb's numeric cannot hold, date-times timestamptz
 * refuses. Each is a 400, and its body, marked, must never reach a log.
 */

type Event = { type: string; timestamp: string; data: Record<string, unknown> }
/** Changes the event; returns raw JSON for the `@RAW@` placeholder when JSON.stringify cannot write it. */
type Mutation = (event: Event) => string | undefined

const RAW = '@RAW@'
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`
const isContact = (event: Event) => event.type === 'contact.updated'
const timeField = (event: Event) => (isContact(event) ? 'updatedAt' : 'createdAt')
const raw = (event: Event, field: string, text: string) => {
  event.data[field] = RAW
  return text
}

const MUTATIONS: Array<[kind: string, Mutation]> = [
  [
    'person id 2^53',
    (event) => {
      event.data.pipedrivePersonId = 2 ** 53
      return undefined
    }
  ],
  ['person id 2^63', (event) => raw(event, 'pipedrivePersonId', '9223372036854775808')],
  ['person id 1e20', (event) => raw(event, 'pipedrivePersonId', '1e20')],
  [
    'organization id 2^53 / duration 2^31',
    (event) => {
      if (isContact(event))
        event.data.organization = { id: 'f-big-org', name: 'Big', pipedriveOrgId: 2 ** 53 }
      else event.data.durationMinutes = 2 ** 31
      return undefined
    }
  ],
  [
    'organization id 2^64 / duration 2^53',
    (event) => {
      if (!isContact(event)) {
        event.data.durationMinutes = 2 ** 53
        return undefined
      }
      event.data.organization = { id: 'f-big-org', name: 'Big', pipedriveOrgId: RAW }
      return '18446744073709551616'
    }
  ],
  [
    'NUL in a key',
    (event) => {
      event.data['note\u0000'] = 'x'
      return undefined
    }
  ],
  [
    'lone surrogate in a key',
    (event) => {
      event.data.futureField = { '\ud83d': true }
      return undefined
    }
  ],
  [
    'NUL in a nested key',
    (event) => {
      event.data.futureField = { list: [{ ok: 1 }, { 'k\u0000': 2 }] }
      return undefined
    }
  ],
  [
    'NUL in a nested value',
    (event) => {
      event.data.futureField = { deeper: ['fine', 'nul \u0000 here'] }
      return undefined
    }
  ],
  [
    'lone surrogate in the owner name',
    (event) => {
      event.data.owner = { id: 'u_owner', email: 'owner@crm.example', name: 'Olive \udc00' }
      return undefined
    }
  ],
  ['nested 65 levels', (event) => raw(event, 'futureField', nested(63))],
  ['nested 1,000 levels', (event) => raw(event, 'futureField', nested(1_000))],
  ['nested 10,000 levels', (event) => raw(event, 'futureField', nested(10_000))],
  ['nested 100,000 levels', (event) => raw(event, 'futureField', nested(100_000))],
  ['number 1e1000000', (event) => raw(event, 'futureField', '{"n": 1e1000000}')],
  ['number -1e-400000', (event) => raw(event, 'futureField', '[-1e-400000]')],
  ['number of 200,000 digits', (event) => raw(event, 'futureField', '7'.repeat(200_000))],
  ['number with 20,000 decimals', (event) => raw(event, 'futureField', `0.${'3'.repeat(20_000)}`)],
  [
    'date-time in year 0',
    (event) => {
      event.data[timeField(event)] = '0000-06-01T00:00:00Z'
      return undefined
    }
  ],
  [
    'date-time offset +16:00',
    (event) => {
      event.data[timeField(event)] = '2026-11-24T10:00:00+16:00'
      return undefined
    }
  ],
  [
    'date-time in a leap second fraction',
    (event) => {
      event.data[timeField(event)] = '2026-12-31T23:59:60.25Z'
      return undefined
    }
  ]
]

/** The marker goes where personal data goes: the contact's name, the activity's note. */
function mark(event: Event): string {
  const marker = `Unstorable ${randomBytes(6).toString('hex')}`
  event.data[isContact(event) ? 'name' : 'note'] = marker
  return marker
}

export function unstorableInput(random: Random): FuzzCase {
  const event = validEvent(random) as Event
  const marker = mark(event)
  const [kind, mutate] = pick(random, MUTATIONS)
  const replacement = mutate(event)
  let text = JSON.stringify(event)
  if (replacement !== undefined) text = text.replace(`"${RAW}"`, replacement)
  const body = Buffer.from(text)
  return { ...post(`unstorable: ${kind}`, signed(body), body, 400), marker }
}

/**
 * Valid events at the edges of what can be stored, for mixing in: the largest exact ids, 64
 * levels, many brackets, the largest numbers and offsets allowed. Each must be accepted (202).
 */
export function storableEdgeEvent(event: Event, index: number): Event {
  const edge = structuredClone(event)
  const id = 2 ** 53 - 1
  edge.data.pipedrivePersonId = id
  edge.data.organization = { ...(edge.data.organization as object), pipedriveOrgId: id }
  edge.data.updatedAt = '2026-11-24T10:00:00+15:59'
  edge.data.futureField =
    index % 2 === 0 ? Array.from({ length: 100 }, (_, i) => ({ i, tags: [`t${i}`] })) : JSON.parse(nested(62))
  edge.data.bigNumber = 1e300
  return edge
}
