import { exponentialBackoff } from '../backoff.js'
import type { Config } from '../config.js'
import { decodeWebhookSecret } from '../config.js'
import type { Database } from '../db/database.js'
import type { Logger } from '../logger-interface.js'
import {
  type ClaimedCallback,
  claimDueCallbacks,
  markDelivered,
  markGivenUp,
  releaseCallback,
  scheduleRetry
} from '../store/outbox.js'
import { WakeLoop } from '../wake-loop.js'
import { sign } from '../webhooks/verify.js'

/** Deliveries are retried for at least this long before the service gives up (docs/interface.md). */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000
const BATCH_SIZE = 20
const REQUEST_TIMEOUT_MS = 10_000
const LEASE_MS = 60_000
const POLL_INTERVAL_MS = 1_000
const MAX_ERROR_LENGTH = 500

/** Doubling from the base, capped, plus up to 20 % jitter. */
export function callbackDelay(attempts: number, baseMs: number, maxMs: number, random: () => number): number {
  return exponentialBackoff(attempts - 1, { baseMs, maxMs, jitter: 0.2 }, random)
}

export interface CallbackDeliveryOptions {
  db: Database
  config: Config
  log: Logger
  onDelivery?: (type: string, outcome: 'delivered' | 'failed' | 'gave_up') => void
  random?: () => number
  pollIntervalMs?: number
}

/**
 * Sends due outbox rows, each signed with Standard Webhooks under its own stable `webhook-id`,
 * at least once: a row is marked delivered only after a 2xx. Rows are claimed with a lease
 * (SKIP LOCKED) so several instances never send one row at the same time.
 */
export class CallbackDelivery {
  readonly #options: CallbackDeliveryOptions
  readonly #key: Buffer | undefined
  /** Its signal aborts the requests in flight when the service stops: a CRM that never answers must not hold it. */
  readonly #loop: WakeLoop

  constructor(options: CallbackDeliveryOptions) {
    this.#options = options
    this.#key = options.config.CRM_CALLBACK_SECRET
      ? decodeWebhookSecret(options.config.CRM_CALLBACK_SECRET)
      : undefined
    this.#loop = new WakeLoop({
      // Rows attempted: due rows may be left behind the batch, so look again at once.
      pass: async () => ((await this.deliverDue()) > 0 ? 'again' : 'idle'),
      pollIntervalMs: options.pollIntervalMs ?? POLL_INTERVAL_MS,
      onError: (error, retryInMs) =>
        options.log.error({ err: error, retryInMs }, 'callback delivery pass failed')
    })
  }

  start(): void {
    if (!this.#options.config.CRM_CALLBACK_URL || !this.#key) return
    this.#loop.start()
  }

  notify(): void {
    this.#loop.wake()
  }

  /** Stops claiming at once and aborts the requests in flight; their rows stay due. */
  async stop(): Promise<void> {
    await this.#loop.stop()
  }

  /** One pass over the due rows; returns how many were attempted. */
  async deliverDue(): Promise<number> {
    const { db, config } = this.#options
    const due = await claimDueCallbacks(db, { limit: BATCH_SIZE, leaseMs: LEASE_MS })
    await Promise.all(due.map((row) => this.#deliver(row, config.CRM_CALLBACK_URL as string)))
    return due.length
  }

  async #deliver(row: ClaimedCallback, url: string): Promise<void> {
    const { db, config, log, onDelivery, random = Math.random } = this.#options
    const shutdown = this.#loop.signal
    const body = JSON.stringify(row.payload)
    const timestamp = Math.floor(Date.now() / 1000)
    let failure: string | undefined
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': row.webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': `v1,${sign(this.#key as Buffer, row.webhookId, timestamp, body)}`
        },
        body,
        // A redirect would send the signed body to wherever the answer points: a failed delivery.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), shutdown])
      })
      await response.arrayBuffer().catch(() => undefined)
      if (!response.ok) {
        const redirect = response.status >= 300 && response.status < 400
        failure = `the CRM answered ${response.status}${redirect ? ' (redirects are not followed)' : ''}`
      }
    } catch (error) {
      if (shutdown.aborted) return this.#release(row)
      failure = `the CRM could not be reached: ${error instanceof Error ? error.message : String(error)}`
    }
    if (failure === undefined) {
      await markDelivered(db, row.id)
      onDelivery?.(row.type, 'delivered')
      return
    }
    const attempts = row.attempts + 1
    const error = failure.slice(0, MAX_ERROR_LENGTH)
    if (row.ageMs >= GIVE_UP_AFTER_MS) {
      await markGivenUp(db, row.id, { attempts, error })
      log.error(
        { webhookId: row.webhookId, type: row.type, attempts },
        `callback given up after 24 h: ${failure}`
      )
      onDelivery?.(row.type, 'gave_up')
      return
    }
    const delayMs = callbackDelay(attempts, config.SYNC_BACKOFF_BASE_MS, config.SYNC_BACKOFF_MAX_MS, random)
    await scheduleRetry(db, row.id, { attempts, delayMs, error })
    log.warn(
      { webhookId: row.webhookId, type: row.type, attempts },
      `callback failed, retrying in ${delayMs} ms: ${failure}`
    )
    onDelivery?.(row.type, 'failed')
  }

  /**
   * A delivery cut short by the shutdown: the CRM may or may not have it (at least once), so the
   * row stays due, without a failed attempt or a backoff, for the next process to send.
   */
  async #release(row: ClaimedCallback): Promise<void> {
    await releaseCallback(this.#options.db, row.id)
    this.#options.log.info(
      { webhookId: row.webhookId, type: row.type },
      'callback delivery interrupted by shutdown; it is sent again after the restart'
    )
  }
}
