/**
 * Every way a Pipedrive call can fail, as types. Messages name the method, the path and what
 * Pipedrive answered — never the token (it travels only in the `x-api-token` header, which no
 * error or log line copies).
 */

/** Statuses worth another try: the request was not processed, or Pipedrive failed on its side. */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504])

export interface CallDescription {
  method: string
  /** Path without the query string: a search term (an email) is personal data. */
  path: string
}

/** Pipedrive answered with an error status (or an unusable body). */
export class PipedriveError extends Error {
  readonly status: number
  /** Pipedrive's own `error` text, or a short description of the unusable body. */
  readonly pipedriveMessage: string
  readonly retryable: boolean
  /** The request reached Pipedrive and may have taken effect although it failed (5xx). */
  readonly ambiguous: boolean
  readonly method: string
  readonly path: string

  constructor(
    call: CallDescription,
    status: number,
    pipedriveMessage: string,
    flags: { retryable?: boolean; ambiguous?: boolean } = {}
  ) {
    super(`Pipedrive answered ${status} to ${call.method} ${call.path}: ${pipedriveMessage}`)
    this.name = 'PipedriveError'
    this.status = status
    this.pipedriveMessage = pipedriveMessage
    this.retryable = flags.retryable ?? RETRYABLE_STATUSES.has(status)
    this.ambiguous = flags.ambiguous ?? status >= 500
    this.method = call.method
    this.path = call.path
  }
}

/**
 * A 429, or the CDN's non-JSON 403 that Pipedrive sends on repeated overuse (docs/sync.md: it
 * counts as a 429). `waitMs` is how long Pipedrive asked us to stay away.
 */
export class PipedriveRateLimitError extends PipedriveError {
  readonly waitMs: number

  constructor(call: CallDescription, status: number, pipedriveMessage: string, waitMs: number) {
    // Rate limiting happens before Pipedrive processes anything: safe to send again.
    super(call, status, pipedriveMessage, { retryable: true, ambiguous: false })
    this.name = 'PipedriveRateLimitError'
    this.waitMs = waitMs
  }
}

/**
 * The token is paused (a 429's retry-after, or Pipedrive's window used up by someone else) for
 * longer than a caller should wait inside a call: nothing more is sent now. Not retried in-line —
 * a job gives its worker slot back and runs again when the pause ends (`waitMs` from now).
 */
export class PipedriveRatePausedError extends Error {
  readonly waitMs: number
  readonly retryable = false
  readonly ambiguous = false

  constructor(waitMs: number, options?: ErrorOptions) {
    super(`Pipedrive rate limit: this token is paused for another ${Math.ceil(waitMs / 1000)} s`, options)
    this.name = 'PipedriveRatePausedError'
    this.waitMs = waitMs
  }
}

export type NetworkFailureKind = 'refused' | 'connect-timeout' | 'timeout' | 'reset' | 'other'

/** No usable answer: the connection failed, was cut, or the call timed out. Always retryable. */
export class PipedriveNetworkError extends Error {
  readonly kind: NetworkFailureKind
  readonly retryable = true
  /**
   * The request may have reached Pipedrive (it was sent, then the answer was lost): a create
   * must look for its record before it is sent again.
   */
  readonly ambiguous: boolean
  /** Whether the request left this process at all (a refused connection did not). */
  readonly sent: boolean
  readonly code: string | undefined
  readonly method: string
  readonly path: string

  constructor(
    call: CallDescription,
    kind: NetworkFailureKind,
    code: string | undefined,
    options?: ErrorOptions
  ) {
    super(`${describeKind(kind)} on ${call.method} ${call.path}${code ? ` (${code})` : ''}`, options)
    this.name = 'PipedriveNetworkError'
    this.kind = kind
    this.code = code
    this.sent = kind !== 'refused' && kind !== 'connect-timeout'
    this.ambiguous = this.sent
    this.method = call.method
    this.path = call.path
  }
}

/** A create failed in a way that may have created the record, and no look-up could settle it. */
export class PipedriveAmbiguousCreateError extends Error {
  readonly retryable = false
  readonly ambiguous = true

  constructor(what: string, options?: ErrorOptions) {
    super(
      `${what}: the create may have reached Pipedrive and there is no key to look it up; not sent again`,
      options
    )
    this.name = 'PipedriveAmbiguousCreateError'
  }
}

/**
 * A create may have reached Pipedrive, and the look-up does not show the record — perhaps not
 * yet: Pipedrive's search lags a new record. Not sent again in this round; a later round looks again.
 */
export class PipedriveCreateUnconfirmedError extends Error {
  readonly retryable = false
  readonly ambiguous = true

  /** `cause`: the failure that left the outcome unknown; its message is kept in this one's. */
  constructor(what: string, options?: ErrorOptions) {
    const why = options?.cause instanceof Error ? ` (${options.cause.message})` : ''
    super(
      `${what}: the create may have reached Pipedrive${why} and the look-up does not show it yet; looking again later`,
      options
    )
    this.name = 'PipedriveCreateUnconfirmedError'
  }
}

function describeKind(kind: NetworkFailureKind): string {
  switch (kind) {
    case 'refused':
      return 'Pipedrive refused the connection'
    case 'connect-timeout':
      return 'connecting to Pipedrive timed out'
    case 'timeout':
      return 'Pipedrive did not answer in time'
    case 'reset':
      return 'the connection to Pipedrive was cut'
    default:
      return 'network failure'
  }
}

export function isRetryable(error: unknown): boolean {
  return (error instanceof PipedriveError || error instanceof PipedriveNetworkError) && error.retryable
}

/** True when a failed call may nevertheless have taken effect at Pipedrive. */
export function isAmbiguous(error: unknown): boolean {
  return (
    (error instanceof PipedriveError ||
      error instanceof PipedriveNetworkError ||
      error instanceof PipedriveAmbiguousCreateError) &&
    error.ambiguous
  )
}
