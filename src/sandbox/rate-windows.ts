import { type Static, Type } from '@sinclair/typebox'

export const SandboxRateLimitSchema = Type.Object({
  general: Type.Object({ limit: Type.Integer({ minimum: 1 }), windowMs: Type.Integer({ minimum: 1 }) }),
  search: Type.Object({ limit: Type.Integer({ minimum: 1 }), windowMs: Type.Integer({ minimum: 1 }) })
})
export type SandboxRateLimit = Static<typeof SandboxRateLimitSchema>

/** Pipedrive's former documented limit (100 per 10 s) and its search limit (10 per 2 s). */
export const DEFAULT_SANDBOX_RATE_LIMIT: SandboxRateLimit = {
  general: { limit: 100, windowMs: 10_000 },
  search: { limit: 10, windowMs: 2_000 }
}
const DAILY_BUDGET = 10_000

export interface RateVerdict {
  headers: Record<string, string>
  /** Seconds to wait when the request is over the limit. */
  retryAfter?: number
}

/**
 * Pipedrive's view: a sliding window per token counting each request when it ARRIVES, refused
 * ones included (every request sent counts, docs/sync.md).
 */
export class RateWindows {
  limits: SandboxRateLimit
  readonly #arrivals = new Map<string, number[]>()
  readonly #daily = new Map<string, number>()

  constructor(limits: SandboxRateLimit = DEFAULT_SANDBOX_RATE_LIMIT) {
    this.limits = limits
  }

  reset(limits?: SandboxRateLimit): void {
    if (limits) this.limits = limits
    this.#arrivals.clear()
    this.#daily.clear()
  }

  admit(token: string, search: boolean, at = performance.now()): RateVerdict {
    const general = this.#count(`g:${token}`, this.limits.general.windowMs, at)
    const daily = (this.#daily.get(token) ?? DAILY_BUDGET) - 1
    this.#daily.set(token, daily)
    const verdicts = [this.#verdict(general, this.limits.general.limit, this.limits.general.windowMs, at)]
    if (search) {
      const arrivals = this.#count(`s:${token}`, this.limits.search.windowMs, at)
      verdicts.push(this.#verdict(arrivals, this.limits.search.limit, this.limits.search.windowMs, at))
    }
    // The tightest window is the one reported, as one set of headers.
    const worst = verdicts.reduce((a, b) =>
      b.remaining < a.remaining || b.retryAfter > a.retryAfter ? b : a
    )
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(worst.limit),
      'x-ratelimit-remaining': String(Math.max(0, worst.remaining)),
      'x-ratelimit-reset': String(worst.reset),
      'x-daily-requests-left': String(Math.max(0, daily))
    }
    const over = verdicts.filter((verdict) => verdict.retryAfter > 0)
    if (over.length === 0) return { headers }
    return { headers, retryAfter: Math.max(...over.map((verdict) => verdict.retryAfter)) }
  }

  #count(key: string, windowMs: number, at: number): number[] {
    const arrivals = (this.#arrivals.get(key) ?? []).filter((time) => time > at - windowMs)
    arrivals.push(at)
    this.#arrivals.set(key, arrivals)
    return arrivals
  }

  #verdict(arrivals: number[], limit: number, windowMs: number, at: number) {
    const oldest = arrivals[0] ?? at
    const reset = Math.max(1, Math.ceil(Math.round(oldest + windowMs - at) / 1000))
    const over = arrivals.length - limit
    // Over the limit: wait until enough arrivals (this one included) leave the window.
    const freedAt = over > 0 ? (arrivals[over - 1] ?? at) + windowMs : at
    const retryAfter = over > 0 ? Math.max(1, Math.ceil(Math.round(freedAt - at) / 1000)) : 0
    return { limit, remaining: limit - arrivals.length, reset, retryAfter }
  }
}
