import type { FastifyBaseLogger } from 'fastify'
import type { Database, Executor } from '../db/database.js'
import { involvesDatabase, publicErrorMessage } from '../db/database-errors.js'
import { extendLease } from '../store/job-leases.js'
import { type ClaimedJob, claimJobs, completeJob } from '../store/jobs.js'
import { type PassResult, WakeLoop } from '../wake-loop.js'
import type { JobLease } from './job-lease.js'
import { backoffDelay, deferJob, type FailOutcome, type FailureReport, failJob } from './queue.js'

/** Thrown by a handler when retrying cannot help (e.g. Pipedrive answered 400): the job is dead at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError'
}

/**
 * Thrown by a handler that cannot go on for a while through no fault of its own (its Pipedrive
 * token is paused): the job gives its slot back and runs again in `delayMs`, the round not counted.
 */
export class DeferJobError extends Error {
  override name = 'DeferJobError'
  readonly delayMs: number

  constructor(message: string, delayMs: number) {
    super(message)
    this.delayMs = delayMs
  }
}

/**
 * Runs one round of a job. `signal` aborts when the job must stop (its lease was lost, or the
 * process is shutting down); `lease` fences the round's writes and renews leases the work takes.
 */
export type JobHandler = (job: ClaimedJob, signal: AbortSignal, lease: JobLease) => Promise<void>

export interface WorkerOptions {
  db: Database
  handlers: Record<string, JobHandler>
  log: FastifyBaseLogger
  leaseMs: number
  maxAttempts: number
  backoffBaseMs: number
  backoffMaxMs: number
  /** Jobs run at once by this process. */
  concurrency?: number
  /** Fallback when no wake-up arrives: due retries and other processes' jobs are found this way. */
  pollIntervalMs?: number
  random?: () => number
  onFailed?: (job: ClaimedJob, outcome: FailOutcome, error: unknown) => void
  /** After every job round, whatever its outcome (wakes the callback delivery). */
  onSettled?: () => void
  /** Runs inside the transaction that records a failed round (CRM callbacks). */
  reportFailure?: (tx: Executor, job: ClaimedJob, failure: FailureReport) => Promise<void>
}

// Jobs mostly wait on Pipedrive (hundreds of ms a call): enough in flight to keep the rate budget busy.
const DEFAULT_CONCURRENCY = 16
const DEFAULT_POLL_INTERVAL_MS = 1_000
// Renew well before expiry so one slow database round trip cannot lose the lease.
const LEASE_RENEWALS_PER_LEASE = 3
// A deferred job is due by the database's clock: wake a little after it, not a little before.
const DEFER_WAKE_MARGIN_MS = 20

export class Worker {
  readonly #options: Required<Omit<WorkerOptions, 'onFailed' | 'reportFailure' | 'onSettled'>> &
    Pick<WorkerOptions, 'onFailed' | 'reportFailure' | 'onSettled'>
  readonly #inFlight = new Map<ClaimedJob['id'], { done: Promise<void>; controller: AbortController }>()
  readonly #loop: WakeLoop

  constructor(options: WorkerOptions) {
    this.#options = {
      concurrency: DEFAULT_CONCURRENCY,
      pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
      random: Math.random,
      ...options
    }
    this.#loop = new WakeLoop({
      pass: () => this.#claim(),
      pollIntervalMs: this.#options.pollIntervalMs,
      onError: (error, retryInMs) =>
        this.#options.log.error({ err: error, retryInMs }, 'claiming jobs failed')
    })
  }

  start(): void {
    this.#loop.start()
  }

  /** New work may be ready: claim now instead of at the next poll. */
  notify(): void {
    this.#loop.wake()
  }

  /** Stops claiming and waits for in-flight jobs; after `timeoutMs` they are aborted (their lease expires). */
  async stop(timeoutMs: number): Promise<void> {
    await this.#loop.stop()
    const all = Promise.allSettled([...this.#inFlight.values()].map((entry) => entry.done))
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const result = await Promise.race([all, timedOut])
    clearTimeout(timer)
    if (result === 'timeout') {
      for (const entry of this.#inFlight.values()) entry.controller.abort(new Error('shutting down'))
      await all
    }
  }

  /** Claims what the free slots can take; a job that ends wakes the loop for its slot. */
  async #claim(): Promise<PassResult> {
    const { db, handlers, concurrency, leaseMs } = this.#options
    const free = concurrency - this.#inFlight.size
    if (free <= 0) return 'idle'
    const claimed = await claimJobs(db, { types: Object.keys(handlers), limit: free, leaseMs })
    for (const job of claimed) this.#execute(job)
    // Slots left and jobs found: more may be ready right away.
    return claimed.length > 0 && claimed.length < free ? 'again' : 'idle'
  }

  #execute(job: ClaimedJob): void {
    const controller = new AbortController()
    const done = this.#attempt(job, controller).finally(() => {
      this.#inFlight.delete(job.id)
      this.notify()
      this.#options.onSettled?.()
    })
    this.#inFlight.set(job.id, { done, controller })
  }

  async #attempt(job: ClaimedJob, controller: AbortController): Promise<void> {
    const { db, handlers, leaseMs, log } = this.#options
    const renewers = new Set<() => Promise<unknown>>()
    const lease: JobLease = {
      jobId: job.id,
      lockToken: job.lockToken,
      leaseMs,
      renewWithJob(renew) {
        renewers.add(renew)
        return () => {
          renewers.delete(renew)
        }
      }
    }
    const heartbeat = this.#heartbeat(job, controller, renewers)
    try {
      const handler = handlers[job.type]
      if (!handler) throw new PermanentJobError(`no handler for job type ${job.type}`)
      await handler(job, controller.signal, lease)
      heartbeat.stop()
      if (!(await completeJob(db, job))) {
        log.warn(
          { jobId: job.id, type: job.type },
          'job lost its lease to another run: its round wrote nothing'
        )
      }
    } catch (error) {
      heartbeat.stop()
      await this.#fail(job, error)
    }
  }

  /**
   * Renews the job's lease, then every lease its work renews with it. A lease another run took
   * aborts the job; so does one that could not be renewed for a whole lease length (it has lapsed,
   * and another run may take the job any moment).
   */
  #heartbeat(job: ClaimedJob, controller: AbortController, renewers: Set<() => Promise<unknown>>) {
    const { db, leaseMs, log } = this.#options
    let renewedAt = performance.now()
    const timer = setInterval(() => {
      extendLease(db, job, leaseMs)
        .then(async (kept) => {
          if (!kept) {
            controller.abort(new Error('lease lost: another process took the job'))
            return
          }
          renewedAt = performance.now()
          for (const renew of renewers) {
            await renew().catch((error: unknown) =>
              log.warn({ err: error, jobId: job.id }, 'renewing a lease held by the job failed')
            )
          }
        })
        .catch((error: unknown) => {
          log.warn({ err: error, jobId: job.id }, 'lease renewal failed')
          if (performance.now() - renewedAt >= leaseMs) {
            controller.abort(new Error('lease lapsed: it could not be renewed'))
          }
        })
    }, leaseMs / LEASE_RENEWALS_PER_LEASE)
    return { stop: () => clearInterval(timer) }
  }

  async #fail(job: ClaimedJob, error: unknown): Promise<void> {
    if (error instanceof DeferJobError) return this.#defer(job, error)
    const { db, log, maxAttempts, backoffBaseMs, backoffMaxMs, random, onFailed, reportFailure } =
      this.#options
    const dead = error instanceof PermanentJobError || job.attempts >= maxAttempts
    // Stored as lastError and sent in callbacks: a database error is only named by its class.
    const message = publicErrorMessage(error)
    const retryInMs = backoffDelay(job.attempts, backoffBaseMs, backoffMaxMs, random)
    try {
      const report = reportFailure
        ? (tx: Executor, failure: FailureReport) => reportFailure(tx, job, failure)
        : undefined
      const outcome = await failJob(db, job, { error: message, dead, retryInMs }, report)
      log.warn(
        {
          jobId: job.id,
          type: job.type,
          entityId: job.entityId,
          attempts: job.attempts,
          outcome,
          error: message,
          // Its details (without values) are for the log only.
          ...(involvesDatabase(error) ? { err: error } : {})
        },
        outcome === 'retrying'
          ? `job failed, retrying in ${retryInMs} ms`
          : outcome === 'lost'
            ? 'job failed and had lost its lease to another run: its round wrote nothing'
            : `job failed (${outcome})`
      )
      onFailed?.(job, outcome, error)
    } catch (failError) {
      // The lease runs out and the job is taken up again: nothing is lost.
      log.error({ err: failError, jobId: job.id }, 'recording a job failure failed')
    }
  }

  /** Not a failure: no failed round, no callback, no attempt used. */
  async #defer(job: ClaimedJob, deferral: DeferJobError): Promise<void> {
    const { db, log } = this.#options
    const fields = { jobId: job.id, type: job.type, entityId: job.entityId, delayMs: deferral.delayMs }
    try {
      const kept = await deferJob(db, job, deferral.delayMs)
      if (kept) {
        log.info(fields, `job deferred: ${deferral.message}`)
        // Claim it as soon as it is due rather than at the next poll.
        setTimeout(() => this.notify(), deferral.delayMs + DEFER_WAKE_MARGIN_MS).unref()
      } else log.warn(fields, 'job deferral not recorded: the job had been taken over')
    } catch (error) {
      // As for a failure: the lease runs out and the job is taken up again.
      log.error({ err: error, jobId: job.id }, 'recording a job deferral failed')
    }
  }
}
