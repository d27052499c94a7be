import { exponentialBackoff } from './backoff.js'

/**
 * What a pass asks for next: `again` (work was found, more may be ready: run the next pass now),
 * `idle` (sleep until woken or the poll interval), a number (sleep until woken or that many ms),
 * `done` (nothing left: the loop ends until it is started again).
 */
export type PassResult = 'again' | 'idle' | 'done' | number

export interface WakeLoopOptions {
  /** One round of work. `signal` aborts when the loop is stopped. */
  pass: (signal: AbortSignal) => Promise<PassResult>
  /** Fallback when no wake-up arrives: what no one announces in-process is found this way. */
  pollIntervalMs: number
  /** A pass that threw: the loop goes on after a backoff, `retryInMs` away unless woken. */
  onError: (error: unknown, retryInMs: number) => void
  /** Sleeps do not keep the process alive (a loop no shutdown step waits for). */
  unref?: boolean
}

// A pass that keeps failing (the database is down) is tried less often, up to this; a wake-up
// (new work announced) still tries at once.
const MAX_ERROR_BACKOFF_MS = 30_000

/**
 * Runs `pass` over and over, one at a time: right away when it asks for it, else after sleeping
 * until `wake()` or the next poll. A wake-up that arrives while a pass runs is not lost: the next
 * sleep ends at once. A pass that returns `done` ends the run; start() runs it again (called while
 * that pass ran, the run goes on: the pass may have looked before the caller's work was there).
 * `stop()` aborts the pass's signal and resolves once the pass in progress is over; after it the
 * loop never runs again.
 */
export class WakeLoop {
  readonly #options: WakeLoopOptions
  readonly #stop = new AbortController()
  /** The current run, for stop() to wait on. */
  #running: Promise<void> | undefined
  #active = false
  /** start() was called while a pass ran: a `done` it returns may predate the caller's work. */
  #restart = false
  #woken = false
  #endSleep: (() => void) | undefined

  constructor(options: WakeLoopOptions) {
    this.#options = options
  }

  /** Aborted by stop(): work a pass starts (e.g. requests) ends with the loop. */
  get signal(): AbortSignal {
    return this.#stop.signal
  }

  /** Starts the loop unless it is running or stopped. */
  start(): void {
    if (this.#stop.signal.aborted) return
    if (this.#active) {
      this.#restart = true
      return
    }
    this.#active = true
    this.#running = this.#run()
  }

  /** Work may be ready: end the current sleep, or skip the next one. */
  wake(): void {
    this.#woken = true
    this.#endSleep?.()
  }

  async stop(): Promise<void> {
    this.#stop.abort(new Error('stopped'))
    this.wake()
    await this.#running
  }

  async #run(): Promise<void> {
    const { pass, pollIntervalMs, onError } = this.#options
    const errorBackoff = {
      baseMs: pollIntervalMs,
      maxMs: Math.max(pollIntervalMs, MAX_ERROR_BACKOFF_MS),
      jitter: 0
    }
    let failures = 0
    try {
      while (!this.#stop.signal.aborted) {
        // Whatever woke the loop before this pass is seen by it.
        this.#woken = false
        this.#restart = false
        let next: PassResult
        try {
          next = await pass(this.#stop.signal)
          failures = 0
        } catch (error) {
          next = exponentialBackoff(failures++, errorBackoff)
          onError(error, next)
        }
        if (next === 'done' && !this.#restart) return
        if (next === 'done' || next === 'again') continue
        await this.#sleep(next === 'idle' ? pollIntervalMs : next)
      }
    } finally {
      this.#active = false
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken || this.#stop.signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#endSleep = undefined
        resolve()
      }
      const timer = setTimeout(done, Math.max(1, Math.ceil(ms)))
      if (this.#options.unref) timer.unref()
      this.#endSleep = done
    })
  }
}
