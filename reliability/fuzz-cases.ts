import { randomBytes } from 'node:crypto'
import { sign } from '../src/webhooks/verify.js'
import { type FuzzCase, freshId, json, now, post, signed, validEvent } from './fuzz-request.js'
import { pick, type Random, randomInt } from './prng.js'
import { unstorableInput } from './unstorable-cases.js'

export type { FuzzCase } from './fuzz-request.js'

const MAX_BODY_BYTES = 1024 * 1024
const TOLERANCE_SECONDS = 300
const MAX_WEBHOOK_ID = 256
const OTHER_KEY = randomBytes(32)

/**
 * Schema violations: each breaks the event in a way the event schema refuses. A path into
 * the event and the value put there (`REMOVE`: the field is taken out); the second entry, when
 * given, is for activities.
 */
const REMOVE = Symbol('remove')
type Violation = [path: string, value: unknown]
const VIOLATIONS: Array<[contact: Violation, activity?: Violation]> = [
  [['data.id', REMOVE]],
  [['timestamp', REMOVE]],
  [['data', REMOVE]],
  [['data', 'not an object']],
  [['type', 42]],
  [['type', null]],
  [['timestamp', 'yesterday']],
  [['timestamp', '2026-11-24T10:00:00']],
  [['data.id', '']],
  [['data.id', 'x'.repeat(129)]],
  [['data.id', 17]],
  [
    ['data.owner', REMOVE],
    ['data.contactId', REMOVE]
  ],
  [
    ['data.warmnessScore', -1],
    ['data.type', 'FAX']
  ],
  [
    ['data.warmnessScore', '5'],
    ['data.subject', '']
  ],
  [
    ['data.email', 'not-an-email'],
    ['data.done', 'yes']
  ],
  [
    ['data.owner', { id: 'u', email: 'nope' }],
    ['data.durationMinutes', -5]
  ],
  [
    ['data.updatedAt', '2026-11-24 10:00'],
    ['data.createdAt', '24/11/2026']
  ],
  [
    ['data.name', 'x'.repeat(256)],
    ['data.dueAt', '2026-13-45']
  ],
  [
    ['data.pipedrivePersonId', 1.5],
    ['data.durationMinutes', 1.5]
  ],
  [
    ['data.name', 'nul \u0000 inside'],
    ['data.subject', 'nul \u0000 inside']
  ],
  [
    ['data.name', 'lone \ud800 surrogate'],
    ['data.subject', 'lone \ud800 surrogate']
  ]
]

function violate(event: Record<string, unknown>, [path, value]: Violation): void {
  const keys = path.split('.')
  const last = keys.pop() as string
  let target = event
  for (const key of keys) target = target[key] as Record<string, unknown>
  if (value === REMOVE) delete target[last]
  else target[last] = value
}

const BROKEN_JSON = [
  '',
  '{',
  '{"type":"contact.updated",',
  '{"type": contact.updated}',
  "{'type':'contact.updated'}",
  '{"type":"contact.updated","data":{},}',
  'null',
  '[]',
  '"just a string"',
  '12345',
  'true',
  '{"type":"contact.updated"}}'
]

const WRONG_CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'text/json',
  'application/octet-stream',
  'application/jsonp'
]

type Generator = (random: Random) => FuzzCase

const GENERATORS: Array<[weight: number, Generator]> = [
  // Missing one, two or all of the three signature headers.
  [
    12,
    (random) => {
      const body = json(validEvent(random))
      const headers = signed(body)
      const names = ['webhook-id', 'webhook-timestamp', 'webhook-signature']
      for (const name of names) if (random() < 0.6) delete headers[name]
      if (names.every((name) => name in headers)) delete headers[pick(random, names)]
      return post('missing headers', headers, body, 401)
    }
  ],
  // A signature that does not match: random bytes, another key, another body, another id, no v1.
  [
    20,
    (random) => {
      const body = json(validEvent(random))
      const id = freshId()
      const timestamp = now()
      const headers = signed(body, id, timestamp)
      const variant = randomInt(random, 0, 6)
      const signature = [
        `v1,${randomBytes(32).toString('base64')}`,
        `v1,${sign(OTHER_KEY, id, timestamp, body)}`,
        `v1,${sign(OTHER_KEY, id, timestamp, json(validEvent(random)))}`,
        `v2,${headers['webhook-signature']?.slice(3)}`,
        `${headers['webhook-signature']?.slice(3)}`,
        `v1,${randomBytes(randomInt(random, 1, 64)).toString('base64')} v1a,zzz`,
        'v1,'
      ][variant] as string
      headers['webhook-signature'] = signature
      return post('bad signature', headers, body, 401)
    }
  ],
  // A valid signature over other bytes than those sent (tampered in transit).
  [
    10,
    (random) => {
      const event = validEvent(random)
      const body = json(event)
      const headers = signed(body)
      ;(event.data as Record<string, unknown>).name = 'tampered'
      return post('tampered body', headers, json(event), 401)
    }
  ],
  // Timestamps outside the 300 s window, signed correctly for that timestamp.
  [
    12,
    (random) => {
      const body = json(validEvent(random))
      const skew = randomInt(random, TOLERANCE_SECONDS + 2, 10 * 24 * 3600) * (random() < 0.5 ? -1 : 1)
      return post('stale timestamp', signed(body, freshId(), now() + skew), body, 401)
    }
  ],
  // Timestamps that are not integer seconds.
  [
    6,
    (random) => {
      const body = json(validEvent(random))
      const headers = signed(body)
      headers['webhook-timestamp'] = pick(random, [
        'abc',
        '1.5',
        '-5',
        '',
        ' ',
        '0x10',
        '1e9',
        '9'.repeat(20)
      ])
      return post('malformed timestamp', headers, body, 401)
    }
  ],
  // A webhook-id over 256 characters, correctly signed.
  [
    5,
    (random) => {
      const body = json(validEvent(random))
      const id = `msg_${'x'.repeat(randomInt(random, MAX_WEBHOOK_ID - 3, 4_000))}`
      return post('webhook-id too long', signed(body, id), body, 401)
    }
  ],
  // Over 1 MiB (a handful: each is a megabyte on the wire).
  [
    1.5,
    (random) => {
      const event = validEvent(random)
      ;(event.data as Record<string, unknown>).note = 'x'.repeat(
        MAX_BODY_BYTES + randomInt(random, 1, 100_000)
      )
      const body = json(event)
      return post('oversize', signed(body), body, 413)
    }
  ],
  // Correctly signed, but not declared as JSON.
  [
    10,
    (random) => {
      const body = json(validEvent(random))
      const headers = signed(body)
      if (random() < 0.2) delete headers['content-type']
      else headers['content-type'] = pick(random, WRONG_CONTENT_TYPES)
      return post('wrong content type', headers, body, 415)
    }
  ],
  // Correctly signed bytes that are not JSON (or not an object).
  [
    10,
    (random) => {
      const body =
        random() < 0.3 ? randomBytes(randomInt(random, 1, 300)) : Buffer.from(pick(random, BROKEN_JSON))
      return post('broken JSON', signed(body), body, 400)
    }
  ],
  // Correctly signed JSON that violates the event schema.
  [
    25,
    (random) => {
      const event = validEvent(random)
      const [contact, activity] = pick(random, VIOLATIONS)
      violate(event, event.type === 'activity.created' ? (activity ?? contact) : contact)
      const body = json(event)
      return post('schema violation', signed(body), body, 400)
    }
  ],
  // Signed, schema-looking events holding what the database cannot store (ids, durations, NUL
  // or lone surrogates in keys and values, deep nesting, huge numbers, dates out of range).
  [30, unstorableInput],
  // Other methods on the webhook path: never an accepted event.
  [
    3,
    (random) => {
      const body = json(validEvent(random))
      const method = pick(random, ['GET', 'PUT', 'DELETE', 'PATCH'])
      // fetch refuses a GET with a body: that one goes without.
      return { ...post('wrong method', signed(body), method === 'GET' ? undefined : body), method }
    }
  ]
]

/** `count` cases drawn with the given weights from the PRNG (fixed seed, so a run can be repeated). */
export function fuzzCases(random: Random, count: number): FuzzCase[] {
  const total = GENERATORS.reduce((sum, [weight]) => sum + weight, 0)
  return Array.from({ length: count }, () => {
    let roll = random() * total
    for (const [weight, generate] of GENERATORS) {
      roll -= weight
      if (roll <= 0) return generate(random)
    }
    return (GENERATORS[0] as [number, Generator])[1](random)
  })
}
