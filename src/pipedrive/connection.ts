import type { Dispatcher } from 'undici'
import type { Config } from '../config.js'
import { type Logger, silentLogger } from '../logger-interface.js'
import { MAX_INLINE_PAUSE_MS, type RateBudget } from '../rate-budget/budget.js'
import { InProcessRateBudget } from '../rate-budget/in-process.js'
import { PipedriveAccount } from './account.js'
import { type AttemptHook, PipedriveClient } from './client.js'
import type { CreateCoordinator } from './create-coordinator.js'
import { createPipedrivePool } from './dispatcher.js'
import { tokenKey } from './token-key.js'

/** In-line retries per operation (docs/sync.md). */
export const INLINE_RETRIES = 3

export interface PipedriveConnectionOptions {
  baseUrl: string
  budget: RateBudget
  retry: { retries: number; baseMs: number; wait?: (ms: number) => Promise<void>; random?: () => number }
  /** Defaults to a keep-alive Pool for baseUrl's origin (closed by close()). */
  dispatcher?: Dispatcher
  logger?: Logger
  /** Every attempt of every call, all tokens (metrics). */
  onAttempt?: AttemptHook
  requestTimeoutMs?: number
  defaultRateLimitWaitMs?: number
  /** Serialises creates every token shares (labels) across instances; default: none beyond each account. */
  coordinator?: CreateCoordinator
  /** See PipedriveClientOptions.maxRateLimitWaitMs. */
  maxRateLimitWaitMs?: number
}

/** One Pipedrive origin: the socket pool and the rate budget shared by every token's account. */
export class PipedriveConnection {
  readonly budget: RateBudget
  readonly #options: PipedriveConnectionOptions
  readonly #dispatcher: Dispatcher
  readonly #ownsDispatcher: boolean
  readonly #accounts = new Map<string, PipedriveAccount>()

  constructor(options: PipedriveConnectionOptions) {
    this.#options = options
    this.budget = options.budget
    this.#ownsDispatcher = options.dispatcher === undefined
    this.#dispatcher = options.dispatcher ?? createPipedrivePool(options.baseUrl)
  }

  /** The account for a token (created on first use, then reused with its caches). */
  forToken(token: string): PipedriveAccount {
    const key = tokenKey(token)
    let account = this.#accounts.get(key)
    if (!account) {
      const {
        baseUrl,
        budget,
        retry,
        logger,
        onAttempt,
        requestTimeoutMs,
        defaultRateLimitWaitMs,
        maxRateLimitWaitMs
      } = this.#options
      const client = new PipedriveClient({
        baseUrl,
        token,
        dispatcher: this.#dispatcher,
        budget,
        retry,
        ...(logger ? { logger } : {}),
        ...(onAttempt ? { onAttempt } : {}),
        ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
        ...(defaultRateLimitWaitMs ? { defaultRateLimitWaitMs } : {}),
        ...(maxRateLimitWaitMs === undefined ? {} : { maxRateLimitWaitMs })
      })
      account = new PipedriveAccount(client, logger ?? silentLogger, this.#options.coordinator)
      this.#accounts.set(key, account)
    }
    return account
  }

  async close(): Promise<void> {
    this.#accounts.clear()
    if (this.#ownsDispatcher) await this.#dispatcher.close()
  }
}

/**
 * The connection as the configuration describes it (a per-process budget unless one is given).
 * Rate-limit pauses longer than MAX_INLINE_PAUSE_MS are not waited out inside a call: the job
 * gives its worker slot back (a budget given here should be built with the same maxPauseWaitMs).
 */
export function createPipedriveConnection(
  config: Pick<
    Config,
    | 'PIPEDRIVE_BASE_URL'
    | 'PIPEDRIVE_RATE_LIMIT'
    | 'PIPEDRIVE_RATE_WINDOW_MS'
    | 'PIPEDRIVE_SEARCH_RATE_LIMIT'
    | 'PIPEDRIVE_SEARCH_RATE_WINDOW_MS'
    | 'SYNC_RETRY_BASE_MS'
  >,
  deps: {
    logger?: Logger
    dispatcher?: Dispatcher
    budget?: RateBudget
    onAttempt?: AttemptHook
    coordinator?: CreateCoordinator
  } = {}
): PipedriveConnection {
  const budget =
    deps.budget ??
    new InProcessRateBudget({
      general: { limit: config.PIPEDRIVE_RATE_LIMIT, windowMs: config.PIPEDRIVE_RATE_WINDOW_MS },
      search: { limit: config.PIPEDRIVE_SEARCH_RATE_LIMIT, windowMs: config.PIPEDRIVE_SEARCH_RATE_WINDOW_MS },
      maxPauseWaitMs: MAX_INLINE_PAUSE_MS
    })
  return new PipedriveConnection({
    baseUrl: config.PIPEDRIVE_BASE_URL,
    retry: { retries: INLINE_RETRIES, baseMs: config.SYNC_RETRY_BASE_MS },
    maxRateLimitWaitMs: MAX_INLINE_PAUSE_MS,
    ...deps,
    budget
  })
}
