import { randomUUID } from 'node:crypto'
import { decodeWebhookSecret } from '../src/config.js'
import { sign } from '../src/webhooks/verify.js'
import { HARNESS_OPERATOR_KEY, HARNESS_SECRET } from './service-process.js'

const key = decodeWebhookSecret(HARNESS_SECRET) as Buffer

/** Posts an event signed like the CRM does; returns the status and body. */
export async function sendEvent(
  baseUrl: string,
  event: unknown,
  webhookId = `msg_${randomUUID()}`
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(event)
  const timestamp = Math.floor(Date.now() / 1000)
  const response = await fetch(`${baseUrl}/webhooks/crm`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${sign(key, webhookId, timestamp, body)}`
    },
    body
  })
  return { status: response.status, body: await response.text() }
}

/** GET/POST on the operator API. */
export async function operator<T>(baseUrl: string, method: 'GET' | 'POST', path: string): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${HARNESS_OPERATOR_KEY}` }
  })
  return (await response.json()) as T
}
