import { setTimeout as sleep } from 'node:timers/promises'
import type { CrmDelivery } from '../harness/fake-crm.js'
import type { LoggedRequest } from '../src/sandbox/request-log.js'
import type { Sandbox } from '../src/sandbox/server.js'

/** Every wait of the story is bounded by this (the brief: each wait ≤ 20 s). */
export const WAIT_MS = 20_000
const POLL_MS = 150
/** A logged Pipedrive request without a status yet is still in flight; older than this, show it anyway. */
const IN_FLIGHT_GRACE_MS = 5_000

/** A step of the story that did not happen: the demo stops and exits 1. */
export class DemoFailure extends Error {
  override name = 'DemoFailure'
}

interface BackgroundLine {
  at: number
  actor: string
  text: string
}

/**
 * Prints the story in time order. The demo's own actions print when their answer arrives; what
 * happened meanwhile in the background (Pipedrive requests seen by the sandbox, callbacks received
 * by the fake CRM) is pulled from their logs and printed first, sorted, so the timeline reads
 * chronologically even though those things happen on other sockets.
 */
export class Timeline {
  /** Time zero of the printed clock: the story's start (see restart). */
  start = Date.now()
  readonly failures: string[] = []
  #sandbox: Sandbox | undefined
  #callbacks: readonly CrmDelivery[] = []
  #sandboxSeq = 0
  #callbackIndex = 0

  constructor(readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  /** Time zero for the story, once the service is up (starting PGlite takes a while; that is not the story). */
  restart(): void {
    this.start = Date.now()
  }

  watch(sandbox: Sandbox, callbacks: readonly CrmDelivery[]): void {
    this.#sandbox = sandbox
    this.#callbacks = callbacks
  }

  heading(text: string): void {
    this.flush()
    this.write('')
    this.write(text)
  }

  /** One line of the timeline, stamped now, after everything that happened before it. */
  say(actor: string, text: string): void {
    this.flush()
    this.#print(Date.now(), actor, text)
  }

  /** A checked expectation: printed either way; a failed one is remembered and makes the exit code 1. */
  check(ok: boolean, text: string, failure = text): boolean {
    this.flush()
    if (ok) this.#print(Date.now(), '✓', text)
    else {
      this.#print(Date.now(), '✗', failure)
      this.failures.push(failure)
    }
    return ok
  }

  /** Pipedrive requests logged after sequence number `seq` (see lastPipedriveSeq), for a step's checks. */
  pipedriveSince(seq: number): LoggedRequest[] {
    return (this.#sandbox?.requests ?? []).filter((entry) => entry.seq > seq)
  }

  lastPipedriveSeq(): number {
    return this.#sandbox?.requests.at(-1)?.seq ?? 0
  }

  /** Prints background events that have happened so far, oldest first. */
  flush(): void {
    const lines: BackgroundLine[] = []
    for (const entry of this.#settledRequests()) {
      this.#sandboxSeq = entry.seq
      const previous = lines.at(-1)
      const text = describeRequest(entry)
      // The in-line retries of an outage are the same request again and again: one line, ×n.
      const repeat = previous?.actor === 'Pipedrive' ? /^(.*) ×(\d+)$/.exec(previous.text) : null
      if (previous?.actor === 'Pipedrive' && (previous.text === text || repeat?.[1] === text)) {
        previous.text = `${text} ×${Number(repeat?.[2] ?? 1) + 1}`
        continue
      }
      lines.push({ at: Date.parse(entry.at), actor: 'Pipedrive', text })
    }
    for (; this.#callbackIndex < this.#callbacks.length; this.#callbackIndex++) {
      const callback = this.#callbacks[this.#callbackIndex]
      if (callback)
        lines.push({ at: callback.at, actor: 'CRM ← callback', text: this.#describeCallback(callback) })
    }
    lines.sort((a, b) => a.at - b.at)
    for (const line of lines) this.#print(line.at, line.actor, line.text)
  }

  /**
   * Polls `probe` until it returns a value, at most `timeoutMs`. A probe returns `{ value }` when
   * done, else `{ seen }` (what it saw, for the failure message).
   */
  async waitFor<T>(
    what: string,
    probe: () => Promise<{ value: T } | { seen: string }>,
    timeoutMs = WAIT_MS
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs
    let seen = 'nothing yet'
    for (;;) {
      try {
        const result = await probe()
        if ('value' in result) return result.value
        seen = result.seen
      } catch (error) {
        seen = `error: ${(error as Error).message}`
      }
      if (Date.now() >= deadline) {
        throw new DemoFailure(`${what}: did not happen within ${timeoutMs / 1000} s (last seen: ${seen})`)
      }
      await sleep(POLL_MS)
    }
  }

  /** Like waitFor, but a timeout is a failed check and the story goes on (it does not depend on it). */
  async expectWithin<T>(
    what: string,
    probe: () => Promise<{ value: T } | { seen: string }>,
    timeoutMs = WAIT_MS
  ): Promise<T | undefined> {
    try {
      return await this.waitFor(what, probe, timeoutMs)
    } catch (error) {
      if (!(error instanceof DemoFailure)) throw error
      this.check(false, what, error.message)
      return undefined
    }
  }

  #settledRequests(): LoggedRequest[] {
    const settled: LoggedRequest[] = []
    for (const entry of this.pipedriveSince(this.#sandboxSeq)) {
      const inFlight =
        entry.status === null && !entry.fault && Date.now() - Date.parse(entry.at) < IN_FLIGHT_GRACE_MS
      if (inFlight) break // keep the order: later requests wait for this one's answer
      settled.push(entry)
    }
    return settled
  }

  #clock(at: number): string {
    return `${((at - this.start) / 1000).toFixed(2)}s`
  }

  #print(at: number, actor: string, text: string): void {
    this.write(`${this.#clock(at).padStart(7)}  ${actor.padEnd(15)}${text}`)
  }

  #describeCallback(callback: CrmDelivery): string {
    const data = callback.data
    const signature = callback.verified ? 'signature ok' : `BAD SIGNATURE: ${callback.problem}`
    const redelivery = callback.redelivery ? ', a redelivery' : ''
    let facts: string
    switch (callback.type) {
      case 'pipedrive.person.synced':
        facts = `contact ${data.contactId} → person ${data.pipedrivePersonId}, org ${data.pipedriveOrgId}`
        break
      case 'pipedrive.activity.synced':
        facts = `activity ${data.activityId} → Pipedrive activity ${data.pipedriveActivityId}`
        break
      case 'pipedrive.sync.failed': {
        const next = data.dead
          ? 'dead'
          : `next round at ${this.#clock(Date.parse(String(data.nextAttemptAt)))}`
        facts = `${data.entity} ${data.id}, round ${data.attempts} failed, ${next}: "${data.error}"`
        break
      }
      default:
        facts = JSON.stringify(data)
    }
    return `${callback.type}: ${facts} (${signature}${redelivery})`
  }
}

function describeRequest(entry: LoggedRequest): string {
  const { term } = entry.query
  const body = (entry.body ?? {}) as Record<string, unknown>
  const what =
    typeof body.name === 'string' ? body.name : typeof body.subject === 'string' ? body.subject : term
  // The standard industry field travels as an option id, top level: show that it did.
  const industry = typeof body.industry === 'number' ? ` industry ${body.industry}` : ''
  const detail = `${what === undefined ? '' : ` "${what}"`}${industry}`
  const outcome = entry.fault === 'down' ? '503 (sandbox down)' : String(entry.status ?? entry.fault ?? '…')
  return `${entry.method} ${entry.path}${detail} → ${outcome}`
}

/** A plain text table: columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length))
  )
  const line = (cells: string[]) =>
    `  ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd()
  return [line(headers), line(widths.map((width) => '─'.repeat(width))), ...rows.map(line)]
}
