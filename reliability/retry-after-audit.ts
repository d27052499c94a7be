import type { LoggedRequest } from '../src/sandbox/request-log.js'

/** Where a wave of 429s began in the sandbox log, and the retry-after its answers carried. */
export interface WaveStart {
  afterSeq: number
  retryAfterSeconds: number
}

/**
 * A request that arrives this soon after a 429 may have left the client before the 429's answer
 * came back (calls run in parallel): it could not have known. Counted separately, not as a
 * breach. On a loaded 2-core machine the service's own log shows calls taking up to ~280 ms from
 * send to answer, so arrival lags sending by that much; a client that ignored retry-after would
 * still be caught, its next tries landing all through the 1–3 s window.
 */
const IN_FLIGHT_GRACE_MS = 300
// `at` in the sandbox log has millisecond resolution.
const CLOCK_TOLERANCE_MS = 5

/**
 * Searches name their record in the query (an organization's name, a person's email), and one
 * record's searches run one at a time (per-contact job order, the organization's lease): the next
 * identical search after a refused one is its resend. A refused POST cannot be traced that way:
 * the sandbox answers a 429 before it reads the body.
 */
export const TRACEABLE_PATHS: ReadonlySet<string> = new Set([
  '/api/v2/organizations/search',
  '/api/v2/persons/search'
])

interface Refusal {
  request: LoggedRequest
  refusedAt: number
  /** When the token may send again: the 429's arrival plus its retry-after. */
  until: number
  retryAfterSeconds: number
}

/** The injected 429s (not the sandbox's own rate limit), each with its wave's retry-after. */
function injectedRefusals(log: readonly LoggedRequest[], waveStarts: readonly WaveStart[]): Refusal[] {
  return log.flatMap((request) => {
    if (request.status !== 429 || request.fault !== 'failed') return []
    const wave = waveStarts.filter((start) => start.afterSeq < request.seq).at(-1)
    if (!wave) return []
    const refusedAt = Date.parse(request.at)
    const until = refusedAt + wave.retryAfterSeconds * 1_000 - CLOCK_TOLERANCE_MS
    return [{ request, refusedAt, until, retryAfterSeconds: wave.retryAfterSeconds }]
  })
}

export function injected429s(log: readonly LoggedRequest[], waveStarts: readonly WaveStart[]): number {
  return injectedRefusals(log, waveStarts).length
}

/** Requests of the refused token inside a 429's retry-after window (beyond the in-flight grace). */
export function retryAfterBreaches(
  log: readonly LoggedRequest[],
  waveStarts: readonly WaveStart[]
): { breaches: string[]; inFlight: number } {
  const breaches = new Map<number, string>()
  const inFlight = new Set<number>()
  for (const { request: refusal, refusedAt, until, retryAfterSeconds } of injectedRefusals(log, waveStarts)) {
    for (const request of log) {
      if (request.seq <= refusal.seq || request.userId !== refusal.userId) continue
      const at = Date.parse(request.at)
      if (at >= until) continue
      if (at - refusedAt <= IN_FLIGHT_GRACE_MS) inFlight.add(request.seq)
      else
        breaches.set(
          request.seq,
          `#${request.seq} ${request.method} ${request.path} ${at - refusedAt} ms after 429 #${refusal.seq} (retry-after ${retryAfterSeconds} s)`
        )
    }
  }
  for (const seq of breaches.keys()) inFlight.delete(seq)
  return { breaches: [...breaches.values()], inFlight: inFlight.size }
}

export interface ResendAudit {
  /** Refused searches whose resend was found and timed. */
  resent: number
  /** Refused searches never sent again. */
  missing: string[]
  /** Resends that arrived before the retry-after had passed (no in-flight grace: a resend follows the 429's answer). */
  early: string[]
  /** The smallest margin by which a resend cleared its retry-after, ms. */
  shortestMarginMs: number | undefined
}

/** For every refused traceable search: was it sent again, and only once its retry-after had passed? */
export function auditResends(log: readonly LoggedRequest[], waveStarts: readonly WaveStart[]): ResendAudit {
  const audit: ResendAudit = { resent: 0, missing: [], early: [], shortestMarginMs: undefined }
  for (const { request: refusal, refusedAt, until, retryAfterSeconds } of injectedRefusals(log, waveStarts)) {
    if (refusal.method !== 'GET' || !TRACEABLE_PATHS.has(refusal.path)) continue
    const query = JSON.stringify(refusal.query)
    const resend = log.find(
      (request) =>
        request.seq > refusal.seq &&
        request.userId === refusal.userId &&
        request.method === refusal.method &&
        request.path === refusal.path &&
        JSON.stringify(request.query) === query
    )
    const what = `429 #${refusal.seq} ${refusal.method} ${refusal.path} (retry-after ${retryAfterSeconds} s)`
    if (!resend) {
      audit.missing.push(what)
      continue
    }
    audit.resent++
    const at = Date.parse(resend.at)
    const marginMs = at - refusedAt - retryAfterSeconds * 1_000
    audit.shortestMarginMs = Math.min(audit.shortestMarginMs ?? marginMs, marginMs)
    if (at < until) audit.early.push(`${what} resent as #${resend.seq} after ${at - refusedAt} ms`)
  }
  return audit
}
