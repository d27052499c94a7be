/**
 * A cached asynchronous value: concurrent callers share one in-flight load, a success is kept
 * for `ttlMs`, a failure is forgotten at once so the next caller tries again.
 */
export class SingleFlight<K, V> {
  readonly #entries = new Map<K, { promise: Promise<V>; loadedAt: number | undefined }>()
  readonly #ttlMs: number

  constructor(ttlMs = Number.POSITIVE_INFINITY) {
    this.#ttlMs = ttlMs
  }

  get(key: K, load: () => Promise<V>): Promise<V> {
    const entry = this.#entries.get(key)
    if (entry && (entry.loadedAt === undefined || Date.now() - entry.loadedAt < this.#ttlMs))
      return entry.promise
    const fresh: { promise: Promise<V>; loadedAt: number | undefined } = {
      promise: load(),
      loadedAt: undefined
    }
    this.#entries.set(key, fresh)
    fresh.promise.then(
      () => {
        fresh.loadedAt = Date.now()
      },
      () => {
        if (this.#entries.get(key) === fresh) this.#entries.delete(key)
      }
    )
    return fresh.promise
  }

  clear(): void {
    this.#entries.clear()
  }
}
