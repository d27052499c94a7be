import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeWebhookSecret } from '../src/config.js'
import { sign, verifyWebhook } from '../src/webhooks/verify.js'

/** A fresh Standard Webhooks secret: the demo depends on no fixed development value. */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

function keyOf(secret: string): Buffer {
  const key = decodeWebhookSecret(secret)
  if (!key) throw new Error('not a whsec_ secret')
  return key
}

/** A webhook as sent, kept so the story can deliver the very same message again. */
export interface SentWebhook {
  id: string
  timestamp: number
  body: string
}

export interface WebhookAnswer {
  status: number
  body: Record<string, unknown>
}

/** The CRM's sending side: signs events as src/cli/send.ts does and posts them to the service. */
export class CrmSender {
  readonly #key: Buffer

  constructor(
    readonly serviceUrl: string,
    secret: string
  ) {
    this.#key = keyOf(secret)
  }

  /** Wraps `data` in the envelope; the event time is now, so every update is the newest. */
  event(type: string, data: Record<string, unknown>): SentWebhook {
    const now = new Date().toISOString()
    if (type === 'contact.updated') data.updatedAt ??= now
    if (type === 'activity.created') data.createdAt ??= now
    return {
      // Shorter than send.ts's UUIDs so timeline lines stay readable; unique in a fresh database.
      id: `msg_${randomBytes(8).toString('hex')}`,
      timestamp: Math.floor(Date.now() / 1000),
      body: JSON.stringify({ type, timestamp: now, data })
    }
  }

  /** Posts a message: the same message twice is a redelivery (same webhook-id, same signature). */
  async deliver(message: SentWebhook): Promise<WebhookAnswer> {
    const response = await fetch(`${this.serviceUrl}/webhooks/crm`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': message.id,
        'webhook-timestamp': String(message.timestamp),
        'webhook-signature': `v1,${sign(this.#key, message.id, message.timestamp, message.body)}`
      },
      body: message.body
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
}

export interface ReceivedCallback {
  at: number
  webhookId: string
  type: string
  data: Record<string, unknown>
  verified: boolean
  problem?: string
  /** The service delivers at least once: the same webhook-id again is marked, not counted twice. */
  redelivery: boolean
}

export interface CallbackReceiver {
  url: string
  received: ReceivedCallback[]
  close(): Promise<void>
}

/**
 * The CRM's receiving side: checks each callback's Standard Webhooks signature with the service's
 * own verifier (so a wrong signature shows up in the timeline, and fails the demo) and answers 204.
 */
export async function startCallbackReceiver(secret: string): Promise<CallbackReceiver> {
  const key = keyOf(secret)
  const received: ReceivedCallback[] = []
  const seen = new Set<string>()
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      const webhookId = String(request.headers['webhook-id'] ?? '')
      let verified = true
      let problem: string | undefined
      try {
        verifyWebhook({
          headers: request.headers,
          body,
          keys: [key],
          nowSeconds: Math.floor(Date.now() / 1000)
        })
      } catch (error) {
        verified = false
        problem = (error as Error).message
      }
      let envelope: { type?: string; data?: Record<string, unknown> } = {}
      try {
        envelope = JSON.parse(body.toString('utf8')) as typeof envelope
      } catch {
        verified = false
        problem ??= 'body is not JSON'
      }
      received.push({
        at: Date.now(),
        webhookId,
        type: envelope.type ?? '?',
        data: envelope.data ?? {},
        verified,
        redelivery: seen.has(webhookId),
        ...(problem ? { problem } : {})
      })
      seen.add(webhookId)
      response.writeHead(verified ? 204 : 401).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/crm/pipedrive-callbacks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
