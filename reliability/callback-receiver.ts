import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeWebhookSecret } from '../src/config.js'
import { verifyWebhook } from '../src/webhooks/verify.js'

/** A callback as the CRM side received it (the first delivery of each webhook-id). */
export interface ReceivedCallback {
  webhookId: string
  type: string
  data: Record<string, unknown>
  /** Milliseconds since the epoch, on arrival. */
  at: number
}

export interface CallbackReceiver {
  url: string
  /** Verified callbacks, one per webhook-id, in arrival order. */
  received: ReceivedCallback[]
  /** Deliveries of a webhook-id seen before (at least once: allowed, counted). */
  redeliveries: number
  /** Requests whose signature did not verify: must stay 0. */
  unverified: number
  /** While true, the CRM takes each request and never answers it (nothing is recorded as received). */
  holding: boolean
  /** Requests taken while holding. */
  held: number
  /** Every `v1,…` signature the service sent us, for the log audit. */
  signatures: Set<string>
  ofType(type: string): ReceivedCallback[]
  close(): Promise<void>
}

/** The CRM's callback endpoint: verifies each Standard Webhooks signature like a CRM would. */
export async function startCallbackReceiver(secret: string): Promise<CallbackReceiver> {
  const key = decodeWebhookSecret(secret)
  if (!key) throw new Error('the callback secret is not of the form whsec_<base64>')
  const received: ReceivedCallback[] = []
  const seen = new Set<string>()
  const signatures = new Set<string>()
  const receiver = { redeliveries: 0, unverified: 0, holding: false, held: 0 }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      const signature = request.headers['webhook-signature']
      for (const entry of String(signature ?? '').split(' ')) {
        const value = entry.split(',', 2)[1]
        if (value) signatures.add(value)
      }
      try {
        const { id } = verifyWebhook({
          headers: request.headers,
          body,
          keys: [key],
          nowSeconds: Math.floor(Date.now() / 1000)
        })
        if (receiver.holding) {
          receiver.held++
          return
        }
        if (seen.has(id)) receiver.redeliveries++
        else {
          seen.add(id)
          const event = JSON.parse(body.toString('utf8')) as { type: string; data: Record<string, unknown> }
          received.push({ webhookId: id, type: event.type, data: event.data, at: Date.now() })
        }
        response.writeHead(204).end()
      } catch {
        receiver.unverified++
        response.writeHead(401).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/crm/callbacks`,
    received,
    get redeliveries() {
      return receiver.redeliveries
    },
    get unverified() {
      return receiver.unverified
    },
    get holding() {
      return receiver.holding
    },
    set holding(holding: boolean) {
      receiver.holding = holding
    },
    get held() {
      return receiver.held
    },
    signatures,
    ofType: (type) => received.filter((callback) => callback.type === type),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
