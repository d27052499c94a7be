import { createHmac, timingSafeEqual } from 'node:crypto'
import { WebhookVerificationError } from '../http-errors.js'
import { MAX_WEBHOOK_ID_LENGTH, TIMESTAMP_TOLERANCE_SECONDS } from '../schemas/standard-webhooks.js'

const SIGNATURE_BYTES = 32

export interface VerifyInput {
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  keys: readonly Buffer[]
  nowSeconds: number
}

export interface VerifiedWebhook {
  id: string
  timestamp: number
}

function header(headers: VerifyInput['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

export function sign(key: Buffer, id: string, timestamp: number, body: Buffer | string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')
}

/**
 * Verifies in the reference library's order: headers present → timestamp window → HMAC over
 * `id.timestamp.body` (raw bytes) → constant-time compare. The body is not parsed here.
 */
export function verifyWebhook({ headers, body, keys, nowSeconds }: VerifyInput): VerifiedWebhook {
  const id = header(headers, 'webhook-id')
  const timestampHeader = header(headers, 'webhook-timestamp')
  const signatureHeader = header(headers, 'webhook-signature')
  if (!id || !timestampHeader || !signatureHeader) {
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header')
  }
  if (id.length > MAX_WEBHOOK_ID_LENGTH) {
    throw new WebhookVerificationError(`webhook-id is longer than ${MAX_WEBHOOK_ID_LENGTH} characters`)
  }
  if (!/^\d{1,12}$/.test(timestampHeader)) {
    throw new WebhookVerificationError('webhook-timestamp is not an integer number of seconds')
  }
  const timestamp = Number(timestampHeader)
  if (nowSeconds - timestamp > TIMESTAMP_TOLERANCE_SECONDS) {
    throw new WebhookVerificationError('webhook-timestamp is too old')
  }
  if (timestamp - nowSeconds > TIMESTAMP_TOLERANCE_SECONDS) {
    throw new WebhookVerificationError('webhook-timestamp is too far in the future')
  }

  const candidates: Buffer[] = []
  for (const entry of signatureHeader.split(' ')) {
    const [version, value] = entry.split(',', 2)
    if (version !== 'v1' || !value) continue
    const decoded = Buffer.from(value, 'base64')
    if (decoded.length === SIGNATURE_BYTES) candidates.push(decoded)
  }
  for (const key of keys) {
    const expected = Buffer.from(sign(key, id, timestamp, body), 'base64')
    // Every candidate is compared, so timing does not reveal which entry or key matched.
    let matched = false
    for (const candidate of candidates) matched = timingSafeEqual(expected, candidate) || matched
    if (matched) return { id, timestamp }
  }
  throw new WebhookVerificationError('no signature matches')
}
