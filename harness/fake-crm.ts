import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeWebhookSecret } from '../src/config.js'
import { verifyWebhook } from '../src/webhooks/verify.js'

/** One callback request the CRM answered, as it arrived. */
export interface CrmDelivery {
  /** Milliseconds since the epoch, on arrival. */
  at: number
  path: string
  webhookId: string
  headers: IncomingHttpHeaders
  body: string
  /** From the body's envelope: `?`, '' and {} when the body is not one. */
  type: string
  timestamp: string
  data: Record<string, unknown>
  /** The Standard Webhooks signature checked out (with the service's own verifier). */
  verified: boolean
  /** Why it did not, when it did not. */
  problem?: string
  /** A webhook-id this CRM had already accepted: the service delivers at least once. */
  redelivery: boolean
  /** What the CRM answered. */
  status: number
}

export interface FakeCrm {
  /** The callback endpoint, for CRM_CALLBACK_URL. */
  url: string
  /** Every request answered, in arrival order: refused, unverified and redelivered ones too. */
  deliveries: CrmDelivery[]
  /** Accepted first deliveries (verified, answered 2xx, not a redelivery) of one callback type. */
  ofType(type: string): CrmDelivery[]
  /** Answered deliveries whose signature did not verify (answered 401): must stay 0. */
  readonly unverified: number
  /** The next `count` verified deliveries are answered `status` (recorded, not accepted). */
  refuseNext(count: number, status?: number): void
  /** Verified deliveries are answered after this many milliseconds. */
  delayMs: number
  /** While true, the CRM takes each verified request and never answers it (nothing is recorded). */
  holding: boolean
  /** Requests taken while holding. */
  readonly held: number
  /** Every `v1,…` signature value the service sent, for a log audit. */
  signatures: Set<string>
  close(): Promise<void>
}

const PATH = '/crm/callbacks'

/**
 * The CRM's callback endpoint, as a CRM would run it: verifies each callback's signature with
 * `secret` (CRM_CALLBACK_SECRET), records it, answers 204 — or refuses, delays or holds on demand.
 * Shared by the demo, the reliability suite and the callback tests.
 */
export async function startFakeCrm(secret: string): Promise<FakeCrm> {
  const key = decodeWebhookSecret(secret)
  if (!key) throw new Error('the callback secret is not of the form whsec_<base64>')
  const deliveries: CrmDelivery[] = []
  const accepted = new Set<string>()
  const signatures = new Set<string>()
  const refusals: number[] = []
  const counts = { unverified: 0, held: 0 }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      for (const entry of String(request.headers['webhook-signature'] ?? '').split(' ')) {
        const value = entry.split(',', 2)[1]
        if (value) signatures.add(value)
      }
      let problem: string | undefined
      try {
        verifyWebhook({
          headers: request.headers,
          body,
          keys: [key],
          nowSeconds: Math.floor(Date.now() / 1000)
        })
      } catch (error) {
        problem = (error as Error).message
      }
      if (!problem && crm.holding) {
        counts.held++
        return
      }
      let envelope: { type?: string; timestamp?: string; data?: Record<string, unknown> } = {}
      try {
        envelope = JSON.parse(body.toString('utf8')) as typeof envelope
      } catch {
        problem ??= 'body is not JSON'
      }
      const webhookId = String(request.headers['webhook-id'] ?? '')
      const status = problem ? 401 : (refusals.shift() ?? 204)
      if (problem) counts.unverified++
      deliveries.push({
        at: Date.now(),
        path: request.url ?? '',
        webhookId,
        headers: request.headers,
        body: body.toString('utf8'),
        type: envelope.type ?? '?',
        timestamp: envelope.timestamp ?? '',
        data: envelope.data ?? {},
        verified: !problem,
        redelivery: accepted.has(webhookId),
        status,
        ...(problem ? { problem } : {})
      })
      if (status < 300) accepted.add(webhookId)
      const answer = () => response.writeHead(status).end()
      if (!problem && crm.delayMs > 0) setTimeout(answer, crm.delayMs)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  const crm: FakeCrm = {
    url: `http://127.0.0.1:${port}${PATH}`,
    deliveries,
    ofType: (type) =>
      deliveries.filter(
        (delivery) => delivery.type === type && delivery.status < 300 && !delivery.redelivery
      ),
    get unverified() {
      return counts.unverified
    },
    refuseNext(count, status = 500) {
      for (let i = 0; i < count; i++) refusals.push(status)
    },
    delayMs: 0,
    holding: false,
    get held() {
      return counts.held
    },
    signatures,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
  return crm
}
