import { MigrationsMissingError } from '../http-errors.js'
import { WakeLoop } from '../wake-loop.js'

// While migrations are missing, background work looks again this often (a release step may run).
const BACKGROUND_CHECK_INTERVAL_MS = 2_000

/**
 * Lets requests and background work through once every migration is applied. The answer is
 * remembered once true (migrations are never undone), so after that it costs nothing; while
 * false, every request asks again, so the service is usable the moment a release step migrated.
 */
export class MigrationGate {
  readonly #migrationsApplied: () => Promise<boolean>
  /** One per whenApplied() still waiting. */
  readonly #waiting = new Set<WakeLoop>()
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
    // A request found them first: background work starts now, not at its next look.
    for (const loop of this.#waiting) loop.wake()
  }

  /**
   * Runs `start` once migrations are applied: right away when they are (resolving after it), else
   * when a later look (every BACKGROUND_CHECK_INTERVAL_MS) or a request's check finds them. Never after close(). A loop started without migrations would
   * log a failed query on every poll.
   */
  async whenApplied(start: () => void): Promise<void> {
    if (await this.#probe()) return start()
    if (this.#closed) return
    const loop: WakeLoop = new WakeLoop({
      pass: async () => {
        if (!(await this.#probe())) return 'idle'
        this.#waiting.delete(loop)
        if (!this.#closed) start()
        return 'done'
      },
      pollIntervalMs: BACKGROUND_CHECK_INTERVAL_MS,
      onError: () => {
        // #probe() never throws.
      },
      // Nothing at shutdown waits for it: close() stops it.
      unref: true
    })
    this.#waiting.add(loop)
    loop.start()
  }

  close(): void {
    this.#closed = true
    for (const loop of this.#waiting) void loop.stop()
    this.#waiting.clear()
  }

  async #probe(): Promise<boolean> {
    return this.check().then(
      () => true,
      () => false
    )
  }
}
