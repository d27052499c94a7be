import type { AttemptInfo } from './client.js'

/** A failure this recent, with no success since, means "Pipedrive looks down". */
const DOWN_MEMORY_MS = 60_000

/**
 * What this process last heard from Pipedrive: lets check-warm-lead answer `queued` at once
 * while Pipedrive is down instead of waiting out its 5 s (docs/interface.md). A 429 or another 4xx
 * is an answer, so it counts as reachable.
 */
export class PipedriveReachability {
  #lastFailureAt = 0
  #lastSuccessAt = 0

  observe(info: Pick<AttemptInfo, 'status'>, now = Date.now()): void {
    if (info.status !== undefined && info.status < 500) this.#lastSuccessAt = now
    else this.#lastFailureAt = now
  }

  looksDown(now = Date.now()): boolean {
    return this.#lastFailureAt > this.#lastSuccessAt && now - this.#lastFailureAt < DOWN_MEMORY_MS
  }
}
