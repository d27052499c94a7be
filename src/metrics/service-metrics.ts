import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { JOB_STATES } from '../db/schema.js'
import type { QueueSnapshot } from '../jobs/queue-stats.js'
import type { AttemptInfo } from '../pipedrive/client.js'

/** Every metric of the service starts with this, so it is easy to find among process metrics. */
export const METRIC_PREFIX = 'pipedrive_sync_'

/** What became of a signed webhook (docs/interface.md), plus `rejected` for 4xx and `failed` for 5xx. */
export type WebhookOutcome = 'queued' | 'duplicate' | 'stale' | 'known' | 'ignored' | 'rejected' | 'failed'

/** Callback deliveries to the CRM (docs/interface.md); the delivery worker reports into this. */
export type CallbackOutcome = 'delivered' | 'failed' | 'gave_up'

// Pipedrive answers in tens to hundreds of ms; the tail up to the request timeout matters for alerts.
const PIPEDRIVE_LATENCY_BUCKETS_S = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
// Most calls wait not at all (first bucket); a full window is 10 s and a 429 can ask for a minute.
const RATE_LIMIT_WAIT_BUCKETS_S = [0.001, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120]

/**
 * The service's own metrics, registered on the registry given (one per app instance, so tests that
 * build several apps never see each other's numbers). Label values are bounded sets: endpoint names
 * are the pinned ones, never paths with ids, and no label ever carries a token.
 */
export class ServiceMetrics {
  readonly webhooksReceived: Counter<'type' | 'outcome' | 'status'>
  readonly jobs: Gauge<'state'>
  readonly oldestRunnableJobAge: Gauge
  readonly pipedriveRequests: Counter<'endpoint' | 'status'>
  readonly pipedriveRequestDuration: Histogram<'endpoint'>
  readonly rateLimitWait: Histogram<'endpoint'>
  readonly callbackDeliveries: Counter<'type' | 'outcome'>

  constructor(registry: Registry) {
    const registers = [registry]
    this.webhooksReceived = new Counter({
      name: `${METRIC_PREFIX}webhooks_received_total`,
      help: 'Webhooks received on POST /webhooks/crm, by event type, outcome and HTTP status',
      labelNames: ['type', 'outcome', 'status'],
      registers
    })
    this.jobs = new Gauge({
      name: `${METRIC_PREFIX}jobs`,
      help: 'Jobs in the queue table by state, read at scrape time',
      labelNames: ['state'],
      registers
    })
    this.oldestRunnableJobAge = new Gauge({
      name: `${METRIC_PREFIX}queue_oldest_runnable_job_age_seconds`,
      help: 'Seconds since the oldest runnable pending or retrying job became due (0: none waiting)',
      registers
    })
    this.pipedriveRequests = new Counter({
      name: `${METRIC_PREFIX}pipedrive_requests_total`,
      help: 'Pipedrive request attempts (in-line retries included), by endpoint and HTTP status ("error": no answer)',
      labelNames: ['endpoint', 'status'],
      registers
    })
    this.pipedriveRequestDuration = new Histogram({
      name: `${METRIC_PREFIX}pipedrive_request_duration_seconds`,
      help: 'Time from sending a Pipedrive request to its answer or failure, rate-limit wait excluded',
      labelNames: ['endpoint'],
      buckets: PIPEDRIVE_LATENCY_BUCKETS_S,
      registers
    })
    this.rateLimitWait = new Histogram({
      name: `${METRIC_PREFIX}pipedrive_rate_limit_wait_seconds`,
      help: 'Time each Pipedrive request waited for a slot in its token budget before it was sent',
      labelNames: ['endpoint'],
      buckets: RATE_LIMIT_WAIT_BUCKETS_S,
      registers
    })
    this.callbackDeliveries = new Counter({
      name: `${METRIC_PREFIX}callback_deliveries_total`,
      help: 'Attempts to deliver a callback to the CRM, by event type and outcome',
      labelNames: ['type', 'outcome'],
      registers
    })
  }

  webhook(type: string, outcome: WebhookOutcome, status: number): void {
    this.webhooksReceived.inc({ type, outcome, status: String(status) })
  }

  /** The Pipedrive connection's `onAttempt` hook. */
  readonly pipedriveAttempt = (info: AttemptInfo): void => {
    const { endpoint } = info
    this.pipedriveRequests.inc({
      endpoint,
      status: info.status === undefined ? 'error' : String(info.status)
    })
    this.pipedriveRequestDuration.observe({ endpoint }, info.durationMs / 1000)
    this.rateLimitWait.observe({ endpoint }, info.waitedMs / 1000)
  }

  callbackDelivery(type: string, outcome: CallbackOutcome): void {
    this.callbackDeliveries.inc({ type, outcome })
  }

  /** Every state is set, absent ones to 0, so a state that empties does not keep its last value. */
  setQueue(snapshot: QueueSnapshot): void {
    for (const state of JOB_STATES) this.jobs.set({ state }, snapshot.byState.get(state) ?? 0)
    this.oldestRunnableJobAge.set(snapshot.oldestRunnableAgeSeconds)
  }
}
