import { sendEvent } from '../harness/signed-client.js'
import type { Delivery } from './events.js'
import type { ScenarioResult } from './result.js'

/** What the intake answered, request by request. */
export class Tally {
  sent = 0
  ok2xx = 0
  c4xx = 0
  c5xx = 0
  noAnswer = 0
  /** Webhook-ids that got at least one 2xx. */
  readonly accepted = new Set<string>()
  /** A few unexpected answers, for the report. */
  readonly samples: string[] = []

  record(webhookId: string, status: number | undefined, body: string): void {
    this.sent++
    if (status === undefined) this.noAnswer++
    else if (status >= 200 && status < 300) {
      this.ok2xx++
      this.accepted.add(webhookId)
    } else if (status >= 400 && status < 500) this.c4xx++
    else if (status >= 500) this.c5xx++
    if ((status === undefined || status >= 300) && this.samples.length < 5)
      this.samples.push(`${webhookId}: ${status ?? 'no answer'} ${body.slice(0, 200)}`)
  }

  into(result: ScenarioResult): void {
    result.sent += this.sent
    result.ok2xx += this.ok2xx
    result.c4xx += this.c4xx
    result.c5xx += this.c5xx
    result.noAnswer += this.noAnswer
  }
}

export interface SendOptions {
  /** Like a CRM: a delivery without a 2xx is sent again (same webhook-id) until it gets one. */
  untilAccepted?: boolean
  /** Bounds the resends of one delivery when `untilAccepted`. */
  maxTries?: number
  resendDelayMs?: number
}

const DEFAULT_MAX_TRIES = 100
const DEFAULT_RESEND_DELAY_MS = 200

/** Sends one delivery to the URL `target()` names at the time of sending (it may change: restarts). */
export async function deliver(
  target: () => string,
  delivery: Delivery,
  tally: Tally,
  options: SendOptions = {}
): Promise<void> {
  const maxTries = options.untilAccepted ? (options.maxTries ?? DEFAULT_MAX_TRIES) : 1
  for (let attempt = 1; attempt <= maxTries; attempt++) {
    let status: number | undefined
    let body = ''
    try {
      ;({ status, body } = await sendEvent(target(), delivery.event, delivery.webhookId))
    } catch (error) {
      body = error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error)
    }
    tally.record(delivery.webhookId, status, body)
    if (status !== undefined && status >= 200 && status < 300) return
    if (attempt < maxTries)
      await new Promise((resolve) => setTimeout(resolve, options.resendDelayMs ?? DEFAULT_RESEND_DELAY_MS))
  }
}

/** Runs `work` over `items` with at most `concurrency` at once. */
export async function inPool<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  })
  await Promise.all(runners)
}
