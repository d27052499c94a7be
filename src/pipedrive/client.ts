import { performance } from 'node:perf_hooks'
import type { Static, TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Dispatcher } from 'undici'
import { type Logger, silentLogger } from '../logger-interface.js'
import type { CallKind, RateBudget } from '../rate-budget/budget.js'
import { REQUEST_TIMEOUT_MS } from './dispatcher.js'
import {
  type NetworkFailureKind,
  PipedriveError,
  PipedriveNetworkError,
  PipedriveRateLimitError,
  PipedriveRatePausedError
} from './errors.js'
import { type RetryOptions, withRetry } from './retry.js'
import { tokenKey } from './token-key.js'

/** Pipedrive's observed retry-after; used when a 429 or a CDN 403 carries none. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 10_000

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
export type Query = Record<string, string | number | boolean | undefined>

/** One call actually made (or attempted): for attempt counters, metrics and logs. */
export interface AttemptInfo {
  /** Stable endpoint name for metrics, e.g. `persons.create`. */
  endpoint: string
  method: HttpMethod
  path: string
  /** 1 for the first try, 2… for in-line retries. */
  attempt: number
  startedAt: Date
  durationMs: number
  /** Time spent waiting for a rate-limit slot before sending. */
  waitedMs: number
  /** HTTP status, when an answer arrived. */
  status?: number
  error?: Error
}

export type AttemptHook = (info: AttemptInfo) => void

export interface Endpoint<S extends TSchema> {
  name: string
  method: HttpMethod
  path: string
  /** Shape of `data` in the success envelope. */
  data: S
}

export interface CallOptions {
  query?: Query
  body?: unknown
  onAttempt?: AttemptHook
  signal?: AbortSignal
}

export interface Answer<T> {
  data: T
  additionalData: unknown
  status: number
}

export interface PipedriveClientOptions {
  baseUrl: string
  token: string
  dispatcher: Dispatcher
  budget: RateBudget
  retry: Omit<RetryOptions, 'signal' | 'onRetry'>
  logger?: Logger
  /** Sees every attempt of every call (metrics). Per-call hooks are in CallOptions. */
  onAttempt?: AttemptHook
  requestTimeoutMs?: number
  defaultRateLimitWaitMs?: number
  /**
   * A 429 asking for a longer wait than this fails with PipedriveRatePausedError instead of being
   * retried in-line after the wait (unset: every wait is waited out). The token is paused anyway.
   */
  maxRateLimitWaitMs?: number
}

/**
 * One token's access to Pipedrive: every request waits for its rate-limit slot, carries the
 * token in `x-api-token`, and comes back unwrapped from `{ success, data }` or as a typed error.
 */
export class PipedriveClient {
  /** Hash of the token: what logs, budgets and caches use instead of the token. */
  readonly key: string
  readonly #token: string
  readonly #origin: string
  readonly #prefix: string
  readonly #options: PipedriveClientOptions
  readonly #log: Logger

  constructor(options: PipedriveClientOptions) {
    const url = new URL(options.baseUrl)
    this.#origin = url.origin
    this.#prefix = url.pathname.replace(/\/+$/, '')
    this.#token = options.token
    this.key = tokenKey(options.token)
    this.#options = options
    this.#log = options.logger ?? silentLogger
  }

  /** The call with in-line retries (network errors, 429, 5xx). */
  call<S extends TSchema>(endpoint: Endpoint<S>, options: CallOptions = {}): Promise<Answer<Static<S>>> {
    return this.retrying((attempt) => this.send(endpoint, options, attempt), options.signal)
  }

  /** Runs `attempt` under this client's retry policy (used for look-before-create loops). */
  retrying<T>(attempt: (attemptNumber: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(attempt, {
      ...this.#options.retry,
      ...(signal ? { signal } : {}),
      onRetry: ({ error, attempt, delayMs }) => {
        this.#log.warn(
          { pipedriveToken: this.key, attempt, delayMs, err: describeError(error) },
          'Pipedrive call failed, retrying'
        )
      }
    })
  }

  /** Exactly one request (no retry). `attempt` is only reported to the hooks. */
  async send<S extends TSchema>(
    endpoint: Endpoint<S>,
    options: CallOptions = {},
    attempt = 1
  ): Promise<Answer<Static<S>>> {
    const call = { method: endpoint.method, path: endpoint.path }
    const permit = await this.#options.budget.acquire(this.key, callKindOf(endpoint.path), options.signal)
    const startedAt = new Date()
    const start = performance.now()
    let status: number | undefined
    let failure: Error | undefined
    let sent = true
    try {
      const response = await this.#dispatch(endpoint, options, call)
      status = response.status
      return await this.#interpret(endpoint, response, call, permit.spare)
    } catch (error) {
      failure = error as Error
      if (error instanceof PipedriveNetworkError) sent = error.sent
      throw error
    } finally {
      // Not awaited: the slot's release is bookkeeping (it never throws, and a late write only
      // counts the request a little longer), and waiting for it would add a round trip per call.
      void permit.release(sent)
      const info: AttemptInfo = {
        endpoint: endpoint.name,
        method: endpoint.method,
        path: endpoint.path,
        attempt,
        startedAt,
        durationMs: performance.now() - start,
        waitedMs: permit.waitedMs,
        ...(status === undefined ? {} : { status }),
        ...(failure ? { error: failure } : {})
      }
      this.#log.debug(
        {
          pipedriveToken: this.key,
          endpoint: info.endpoint,
          status,
          attempt,
          durationMs: Math.round(info.durationMs)
        },
        'Pipedrive call'
      )
      this.#options.onAttempt?.(info)
      options.onAttempt?.(info)
    }
  }

  async #dispatch(
    endpoint: Endpoint<TSchema>,
    options: CallOptions,
    call: { method: string; path: string }
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const timeout = AbortSignal.timeout(this.#options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS)
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout
    const headers: Record<string, string> = { 'x-api-token': this.#token, accept: 'application/json' }
    let body: string | undefined
    if (options.body !== undefined) {
      body = JSON.stringify(options.body)
      headers['content-type'] = 'application/json'
    }
    try {
      const response = await this.#options.dispatcher.request({
        origin: this.#origin,
        path: `${this.#prefix}${endpoint.path}${queryString(options.query)}`,
        method: endpoint.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal
      })
      const text = await response.body.text()
      return { status: response.statusCode, headers: response.headers, text }
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason
      const kind = timeout.aborted ? 'timeout' : networkFailureKind(error)
      if (!kind) throw error
      throw new PipedriveNetworkError(call, kind, errorCode(error), { cause: error })
    }
  }

  async #interpret<S extends TSchema>(
    endpoint: Endpoint<S>,
    response: { status: number; headers: Record<string, string | string[] | undefined>; text: string },
    call: { method: string; path: string },
    spare: number
  ): Promise<Answer<Static<S>>> {
    const { status, headers } = response
    const remaining = numberHeader(headers['x-ratelimit-remaining'])
    const reset = numberHeader(headers['x-ratelimit-reset'])
    if (remaining === 0 && spare > 0 && reset !== undefined && reset > 0) {
      // Pipedrive's window is full while ours had room: someone else uses the token, so stop until
      // it resets. When ours is full too, it already holds the next call back just long enough
      // (a slot frees a window after its call ended, so after Pipedrive's count of it), and the
      // reset, rounded up to whole seconds, would idle the token for up to a second more.
      await this.#options.budget.pause(this.key, reset * 1000)
    }
    const json = parseJson(response.text)
    const message = typeof json?.error === 'string' ? json.error : undefined
    if (status === 429 || (status === 403 && json === undefined)) {
      const waitMs =
        retryAfterMs(headers['retry-after']) ??
        this.#options.defaultRateLimitWaitMs ??
        DEFAULT_RATE_LIMIT_WAIT_MS
      if (waitMs > 0) await this.#options.budget.pause(this.key, waitMs)
      this.#log.warn(
        { pipedriveToken: this.key, endpoint: endpoint.name, status, waitMs },
        'Pipedrive rate limit hit'
      )
      const limited = new PipedriveRateLimitError(
        call,
        status,
        message ?? (status === 403 ? 'non-JSON 403 (treated as rate limiting)' : 'rate limited'),
        waitMs
      )
      const { maxRateLimitWaitMs } = this.#options
      if (maxRateLimitWaitMs !== undefined && waitMs > maxRateLimitWaitMs)
        throw new PipedriveRatePausedError(waitMs, { cause: limited })
      throw limited
    }
    if (status >= 400 || json?.success === false) {
      throw new PipedriveError(call, status, message ?? (json ? 'no error message' : `non-JSON answer`))
    }
    if (json === undefined) {
      // A 2xx we cannot read: for a create, the record may exist now.
      throw new PipedriveError(call, status, 'answer is not JSON', { retryable: false, ambiguous: true })
    }
    if (!Value.Check(endpoint.data, json.data)) {
      const first = Value.Errors(endpoint.data, json.data).First()
      const where = first ? `${first.path || '/'} ${first.message}` : 'mismatch'
      throw new PipedriveError(call, status, `unexpected answer shape: data${where}`, {
        retryable: false,
        ambiguous: true
      })
    }
    return { data: json.data as Static<S>, additionalData: json.additional_data, status }
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value))
  const text = params.toString()
  return text ? `?${text}` : ''
}

function parseJson(
  text: string
): { success?: unknown; data?: unknown; error?: unknown; additional_data?: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' ? value : undefined
  } catch {
    return undefined
  }
}

/** Search endpoints are the paths ending in `/search` (docs/pipedrive.md); `users/find` is not one. */
function callKindOf(path: string): CallKind {
  return path.split('?')[0]?.endsWith('/search') ? 'search' : 'general'
}

function numberHeader(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined || text.trim() === '') return undefined
  const number = Number(text)
  return Number.isFinite(number) ? number : undefined
}

/** retry-after is seconds or an HTTP date. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const seconds = numberHeader(value)
  if (seconds !== undefined) return Math.max(0, seconds * 1000)
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED'])
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

/** Undefined for errors that are not network failures (programming errors are not retried). */
function networkFailureKind(error: unknown): NetworkFailureKind | undefined {
  const code = errorCode(error)
  if (!code) return undefined
  if (NOT_SENT.has(code)) return 'refused'
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect-timeout'
  if (RESET.has(code)) return 'reset'
  if (TIMEOUT.has(code)) return 'timeout'
  return /^E[A-Z]+$/.test(code) ? 'other' : undefined
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof PipedriveError)
    return { type: error.name, status: error.status, message: error.message }
  if (error instanceof Error) return { type: error.name, message: error.message }
  return { message: String(error) }
}
