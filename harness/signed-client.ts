import { randomUUID } from 'node:crypto'
import { decodeWebhookSecret } from '../src/config.js'
import { sign } from '../src/webhooks/verify.js'
import { HARNESS_OPERATOR_KEY, HARNESS_SECRET } from './service-process.js'

const key = decodeWebhookSecret(HARNESS_SECRET) as Buffer

type SignatureListener = (signature: string) => void
const signatureListeners = new Set<SignatureListener>()

/**
 * Sees every signature this client computes (the base64 part after `v1,`), so a log audit can
 * look for each one. Returns the function that stops listening.
 */
export function onSignature(listener: SignatureListener): () => void {
  signatureListeners.add(listener)
  return () => signatureListeners.delete(listener)
}

/** The three Standard Webhooks headers for `body` (raw bytes as sent), signed with HARNESS_SECRET. */
export function signedHeaders(
  body: Buffer | string,
  webhookId: string,
  timestamp = Math.floor(Date.now() / 1000)
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const signature = sign(key, webhookId, timestamp, body)
  for (const listener of signatureListeners) listener(signature)
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${signature}`
  }
}

/** Posts an event signed like the CRM does; returns the status and body. */
export async function sendEvent(
  baseUrl: string,
  event: unknown,
  webhookId = `msg_${randomUUID()}`
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(event)
  const response = await fetch(`${baseUrl}/webhooks/crm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signedHeaders(body, webhookId) },
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
