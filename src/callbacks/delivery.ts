import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import type { Config } from '../config.js'
import { decodeWebhookSecret } from '../config.js'
import { type Database, rows } from '../db/database.js'
import type { Logger } from '../logger-interface.js'
import { sign } from '../webhooks/verify.js'

/** Deliveries are retried for at least this long before the service gives up (docs/interface.md). */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000
const BATCH_SIZE = 20
const REQUEST_TIMEOUT_MS = 10_000
const LEASE_MS = 60_000
const POLL_INTERVAL_MS = 1_000
const MAX_ERROR_LENGTH = 500

interface OutboxRow {
  id: string
  webhook_id: string
  type: string
  payload: unknown
  attempts: number
  age_ms: number
}

/** Doubling from the base, capped, plus up to 20 % jitter. */
export function callbackDelay(attempts: number, baseMs: number, maxMs: number, random: () => number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40))
  return Math.round(delay * (1 + 0.2 * random()))
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
  /** Aborts the requests in flight when the service stops: a CRM that never answers must not hold it. */
  readonly #shutdown = new AbortController()
  #stopping = false
  #wake: (() => void) | undefined
  #loop: Promise<void> | undefined

  constructor(options: CallbackDeliveryOptions) {
    this.#options = options
    this.#key = options.config.CRM_CALLBACK_SECRET
      ? decodeWebhookSecret(options.config.CRM_CALLBACK_SECRET)
      : undefined
  }

  start(): void {
    if (!this.#options.config.CRM_CALLBACK_URL || !this.#key) return
    this.#loop ??= this.#run()
  }

  notify(): void {
    this.#wake?.()
  }

  /** Stops claiming at once and aborts the requests in flight; their rows stay due. */
  async stop(): Promise<void> {
    this.#stopping = true
    this.#shutdown.abort()
    this.notify()
    await this.#loop
  }

  /** One pass over the due rows; returns how many were attempted. */
  async deliverDue(): Promise<number> {
    const { db, config } = this.#options
    const due = await rows<OutboxRow>(
      db,
      sql`update callback_outbox set locked_until = now() + ${LEASE_MS} * interval '1 millisecond'
          where id in (
            select id from callback_outbox
            where delivered_at is null and gave_up_at is null and next_attempt_at <= now()
              and (locked_until is null or locked_until < now())
            order by id limit ${BATCH_SIZE} for update skip locked)
          returning id::text as id, webhook_id, type, payload, attempts,
            (extract(epoch from (now() - created_at)) * 1000)::float8 as age_ms`
    )
    await Promise.all(due.map((row) => this.#deliver(row, config.CRM_CALLBACK_URL as string)))
    return due.length
  }

  async #deliver(row: OutboxRow, url: string): Promise<void> {
    const { db, config, log, onDelivery, random = Math.random } = this.#options
    const body = typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload)
    const timestamp = Math.floor(Date.now() / 1000)
    let failure: string | undefined
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': row.webhook_id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': `v1,${sign(this.#key as Buffer, row.webhook_id, timestamp, body)}`
        },
        body,
        // A redirect would send the signed body to wherever the answer points: a failed delivery.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), this.#shutdown.signal])
      })
      await response.arrayBuffer().catch(() => undefined)
      if (!response.ok) {
        const redirect = response.status >= 300 && response.status < 400
        failure = `the CRM answered ${response.status}${redirect ? ' (redirects are not followed)' : ''}`
      }
    } catch (error) {
      if (this.#shutdown.signal.aborted) return this.#release(row)
      failure = `the CRM could not be reached: ${error instanceof Error ? error.message : String(error)}`
    }
    if (failure === undefined) {
      await db.execute(sql`update callback_outbox set delivered_at = now(), attempts = attempts + 1,
        locked_until = null, last_error = null where id = ${row.id}`)
      onDelivery?.(row.type, 'delivered')
      return
    }
    const attempts = row.attempts + 1
    if (row.age_ms >= GIVE_UP_AFTER_MS) {
      await db.execute(sql`update callback_outbox set gave_up_at = now(), attempts = ${attempts},
        locked_until = null, last_error = ${failure.slice(0, MAX_ERROR_LENGTH)} where id = ${row.id}`)
      log.error(
        { webhookId: row.webhook_id, type: row.type, attempts },
        `callback given up after 24 h: ${failure}`
      )
      onDelivery?.(row.type, 'gave_up')
      return
    }
    const delayMs = callbackDelay(attempts, config.SYNC_BACKOFF_BASE_MS, config.SYNC_BACKOFF_MAX_MS, random)
    await db.execute(sql`update callback_outbox set attempts = ${attempts}, locked_until = null,
      next_attempt_at = now() + ${delayMs} * interval '1 millisecond',
      last_error = ${failure.slice(0, MAX_ERROR_LENGTH)} where id = ${row.id}`)
    log.warn(
      { webhookId: row.webhook_id, type: row.type, attempts },
      `callback failed, retrying in ${delayMs} ms: ${failure}`
    )
    onDelivery?.(row.type, 'failed')
  }

  /**
   * A delivery cut short by the shutdown: the CRM may or may not have it (at least once), so the
   * row stays due, without a failed attempt or a backoff, for the next process to send.
   */
  async #release(row: OutboxRow): Promise<void> {
    await this.#options.db.execute(sql`update callback_outbox set locked_until = null where id = ${row.id}`)
    this.#options.log.info(
      { webhookId: row.webhook_id, type: row.type },
      'callback delivery interrupted by shutdown; it is sent again after the restart'
    )
  }

  async #run(): Promise<void> {
    const interval = this.#options.pollIntervalMs ?? POLL_INTERVAL_MS
    while (!this.#stopping) {
      let attempted = 0
      try {
        attempted = await this.deliverDue()
      } catch (error) {
        this.#options.log.error({ err: error }, 'callback delivery pass failed')
      }
      if (attempted > 0) continue
      const controller = new AbortController()
      this.#wake = () => controller.abort()
      await sleep(interval, undefined, { signal: controller.signal }).catch(() => undefined)
      this.#wake = undefined
    }
  }
}
