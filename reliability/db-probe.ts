import postgres from 'postgres'

/**
 * Read-only counts straight from the scenario's database: the jobs' states and the inbox size are
 * what "every job finished" and "nothing stored" mean, and no API exposes them whole.
 */
export class DbProbe {
  readonly #sql: postgres.Sql

  constructor(url: string) {
    this.#sql = postgres(url, { max: 1, onnotice: () => {} })
  }

  async jobStates(): Promise<Record<string, number>> {
    const rows = await this.#sql<Array<{ state: string; count: number }>>`
      select state, count(*)::int as count from jobs group by state`
    return Object.fromEntries(rows.map((row) => [row.state, row.count]))
  }

  /** Jobs not yet finished one way or the other. */
  async unfinishedJobs(): Promise<number> {
    const states = await this.jobStates()
    return (states.pending ?? 0) + (states.running ?? 0) + (states.retrying ?? 0)
  }

  /** Serial keys (contacts) with a job running right now. */
  async runningKeys(): Promise<Set<string>> {
    const rows = await this.#sql<Array<{ serial_key: string }>>`
      select serial_key from jobs where state = 'running'`
    return new Set(rows.map((row) => row.serial_key))
  }

  async inboxRows(): Promise<number> {
    const [row] = await this.#sql<Array<{ count: number }>>`select count(*)::int as count from webhook_inbox`
    return row?.count ?? 0
  }

  /** Rows of the entity tables, for "a forged request stored nothing". */
  async storedEntities(): Promise<number> {
    const [row] = await this.#sql<Array<{ count: number }>>`
      select (select count(*) from contacts)::int + (select count(*) from activities)::int as count`
    return row?.count ?? 0
  }

  close(): Promise<void> {
    return this.#sql.end()
  }
}
