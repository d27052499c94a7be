import { Type } from '@sinclair/typebox'
import { MAX_WEBHOOK_ID_LENGTH, TIMESTAMP_TOLERANCE_SECONDS } from './standard-webhooks.js'
import { EventEnvelope, HANDLED_EVENTS } from './webhook-events.js'

/**
 * The Standard Webhooks headers of `POST /webhooks/crm`, for the OpenAPI document. `verifyWebhook`
 * checks them itself (a missing or bad header is a 401, not the 400 a schema check would give).
 */
export const WebhookHeaders = Type.Object({
  'webhook-id': Type.String({
    minLength: 1,
    maxLength: MAX_WEBHOOK_ID_LENGTH,
    description: 'Unique message id; the same id again is a redelivery of the same message'
  }),
  'webhook-timestamp': Type.String({
    pattern: '^[0-9]+$',
    description: `Unix seconds; refused when more than ${TIMESTAMP_TOLERANCE_SECONDS} s from now`
  }),
  'webhook-signature': Type.String({
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` entries, keyed with a ' +
      'WEBHOOK_SECRETS secret (base64 after `whsec_`); valid when any entry matches any secret'
  })
})

/** The body as documented: one of the handled events, or any other type (answered 202 ignored). */
export const WebhookEvent = Type.Union([...Object.values(HANDLED_EVENTS), EventEnvelope], {
  description: 'Event envelope `{ type, timestamp, data }`, at most 1 MiB, checked after the signature'
})
