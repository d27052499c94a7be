import t from 'tap'
import { decodeWebhookSecret } from '../../src/config.js'
import { WebhookVerificationError } from '../../src/http-errors.js'
import { sign, verifyWebhook } from '../../src/webhooks/verify.js'
import { vectors } from '../helper.js'

const key = (secret: string) => {
  const decoded = decodeWebhookSecret(secret)
  if (!decoded) throw new Error(`bad test secret ${secret}`)
  return decoded
}
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const OTHER = 'whsec_cm90YXRpb24tc2VjcmV0LWZvci10ZXN0cy0wMDAwMDE='

function request(overrides: { id?: string; timestamp?: string; signature?: string; body?: string } = {}) {
  const id = overrides.id ?? 'msg_1'
  const timestamp = overrides.timestamp ?? '1700000000'
  const body = overrides.body ?? '{"type":"x"}'
  return {
    headers: {
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': overrides.signature ?? `v1,${sign(key(SECRET), id, Number(timestamp), body)}`
    },
    body: Buffer.from(body)
  }
}

t.test('every vector of webhook-vectors.json', async (t) => {
  for (const vector of vectors) {
    const secrets = vector.secrets ?? (vector.secret ? [vector.secret] : [])
    const verify = () =>
      verifyWebhook({
        headers: {
          'webhook-id': vector.id,
          'webhook-timestamp': String(vector.timestamp),
          'webhook-signature': vector.signature
        },
        body: Buffer.from(vector.body),
        keys: secrets.map(key),
        nowSeconds: vector.timestamp
      })
    if (vector.valid) t.same(verify(), { id: vector.id, timestamp: vector.timestamp }, vector.description)
    else t.throws(verify, WebhookVerificationError, vector.description)
  }
})

t.test('a message signed with either configured secret passes (rotation)', async (t) => {
  const body = '{"a":1}'
  for (const secret of [SECRET, OTHER]) {
    const signature = `v1,${sign(key(secret), 'm', 1700000000, body)}`
    t.same(
      verifyWebhook({
        ...request({ id: 'm', signature, body }),
        keys: [key(SECRET), key(OTHER)],
        nowSeconds: 1700000000
      }),
      { id: 'm', timestamp: 1700000000 }
    )
  }
})

t.test('the wrong secret fails', async (t) => {
  t.throws(() => verifyWebhook({ ...request(), keys: [key(OTHER)], nowSeconds: 1700000000 }), {
    message: 'no signature matches'
  })
})

t.test('timestamp window is ±300 s, inclusive', async (t) => {
  const keys = [key(SECRET)]
  t.ok(verifyWebhook({ ...request(), keys, nowSeconds: 1700000300 }), '300 s old passes')
  t.ok(verifyWebhook({ ...request(), keys, nowSeconds: 1699999700 }), '300 s ahead passes')
  t.throws(() => verifyWebhook({ ...request(), keys, nowSeconds: 1700000301 }), { message: /too old/ })
  t.throws(() => verifyWebhook({ ...request(), keys, nowSeconds: 1699999699 }), { message: /future/ })
})

t.test('missing or malformed headers', async (t) => {
  const keys = [key(SECRET)]
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const { headers, body } = request()
    const without: Record<string, string> = { ...headers }
    delete without[name]
    t.throws(
      () => verifyWebhook({ headers: without, body, keys, nowSeconds: 1700000000 }),
      {
        message: /missing webhook-id, webhook-timestamp or webhook-signature/
      },
      `without ${name}`
    )
  }
  t.throws(() => verifyWebhook({ ...request({ timestamp: '17e8' }), keys, nowSeconds: 1700000000 }), {
    message: /not an integer/
  })
  t.throws(() => verifyWebhook({ ...request({ id: 'x'.repeat(257) }), keys, nowSeconds: 1700000000 }), {
    message: /longer than 256/
  })
  t.ok(verifyWebhook({ ...request({ id: 'x'.repeat(256) }), keys, nowSeconds: 1700000000 }), '256 chars pass')
  t.throws(() => verifyWebhook({ ...request({ signature: 'v1,' }), keys, nowSeconds: 1700000000 }))
  t.throws(() =>
    verifyWebhook({ ...request({ signature: 'v1,not-base64!!' }), keys, nowSeconds: 1700000000 })
  )
})

t.test('one valid entry among several passes; another version prefix is ignored', async (t) => {
  const good = request().headers['webhook-signature']
  const v2 = good.replace('v1,', 'v2,')
  const keys = [key(SECRET)]
  t.ok(verifyWebhook({ ...request({ signature: `v1,AAAA ${good}` }), keys, nowSeconds: 1700000000 }))
  t.throws(() => verifyWebhook({ ...request({ signature: v2 }), keys, nowSeconds: 1700000000 }))
})

t.test('the signature covers id, timestamp and every body byte', async (t) => {
  const keys = [key(SECRET)]
  const signature = request().headers['webhook-signature']
  t.throws(() => verifyWebhook({ ...request({ id: 'msg_2', signature }), keys, nowSeconds: 1700000000 }))
  t.throws(() =>
    verifyWebhook({ ...request({ timestamp: '1700000001', signature }), keys, nowSeconds: 1700000000 })
  )
  t.throws(() =>
    verifyWebhook({ ...request({ body: '{"type":"x"} ', signature }), keys, nowSeconds: 1700000000 })
  )
})
