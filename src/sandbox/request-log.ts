/** One Pipedrive request as the sandbox saw it. The token is not kept: `userId` says whose it was. */
export interface LoggedRequest {
  seq: number
  at: string
  method: string
  path: string
  query: Record<string, string>
  userId: number | null
  body: unknown
  status: number | null
  /** What the sandbox did besides answering: 'rate-limited', 'failed', 'dropped-before', … */
  fault?: string
  /**
   * Arrival to answer sent, in milliseconds (injected latency included): what the call cost as
   * Pipedrive's side of it, so benchmarks can subtract it from end-to-end times.
   */
  durationMs?: number
}

const MAX_ENTRIES = 10_000

export class RequestLog {
  entries: LoggedRequest[] = []
  #seq = 0

  add(entry: Omit<LoggedRequest, 'seq' | 'at' | 'status'>): LoggedRequest {
    const logged: LoggedRequest = { seq: ++this.#seq, at: new Date().toISOString(), status: null, ...entry }
    this.entries.push(logged)
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES)
    return logged
  }

  clear(): void {
    this.entries = []
  }
}
