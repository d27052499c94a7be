import { randomBytes } from 'node:crypto'
import { decodeWebhookSecret } from '../src/config.js'
import { sign } from '../src/webhooks/verify.js'

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
    if (type === 'contact.updated' || type === 'activity.updated') data.updatedAt ??= now
    if (type === 'activity.created' || type === 'activity.updated') data.createdAt ??= now
    if (type === 'activity.deleted' || type === 'contact.deleted') data.deletedAt ??= now
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
