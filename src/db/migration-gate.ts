import { MigrationsMissingError } from '../http-errors.js'

// While migrations are missing, background work looks again this often (a release step may run).
const BACKGROUND_CHECK_INTERVAL_MS = 2_000

/**
 * Lets requests and background work through once every migration is applied. The answer is
 * remembered once true (migrations are never undone), so after that it costs nothing; while
 * false, every request asks again, so the service is usable the moment a release step migrated.
 */
export class MigrationGate {
  readonly #migrationsApplied: () => Promise<boolean>
  readonly #timers = new Set<NodeJS.Timeout>()
  #applied = false
  #closed = false

  constructor(migrationsApplied: () => Promise<boolean>) {
    this.#migrationsApplied = migrationsApplied
  }

  get applied(): boolean {
    return this.#applied
  }

  /** Throws MigrationsMissingError while migrations are missing. */
  async check(): Promise<void> {
    if (this.#applied) return
    if (!(await this.#migrationsApplied())) throw new MigrationsMissingError()
    this.#applied = true
  }

  /**
   * Runs `start` once migrations are applied: right away when they are (resolving after it), else
   * when a later check finds them. Never after close(). A loop started without migrations would
   * log a failed query on every poll.
   */
  async whenApplied(start: () => void): Promise<void> {
    if (await this.#probe()) return start()
    const timer = setInterval(() => {
      void this.#probe().then((applied) => {
        if (!applied || this.#closed || !this.#timers.delete(timer)) return
        clearInterval(timer)
        start()
      })
    }, BACKGROUND_CHECK_INTERVAL_MS)
    timer.unref()
    this.#timers.add(timer)
  }

  close(): void {
    this.#closed = true
    for (const timer of this.#timers) clearInterval(timer)
    this.#timers.clear()
  }

  async #probe(): Promise<boolean> {
    return this.check().then(
      () => true,
      () => false
    )
  }
}
