import postgres from 'postgres'

/**
 * Read-only views of a service's database for the benchmarks: when each record's Pipedrive id
 * was stored (the row's `updated_at`, set in the transaction that stores the id — the database's
 * clock, the same host's clock as ours).
 */
export function openServiceDb(url: string) {
  const sql = postgres(url, { max: 2, onnotice: () => {} })
  return {
    /** Epoch ms at which each contact's person id was stored; absent while it is not. */
    async personStoredAt(ids: readonly string[]): Promise<Map<string, number>> {
      const rows = await sql<{ id: string; at: string }[]>`
        select id, extract(epoch from updated_at) * 1000 as at from contacts
        where id = any(${ids as string[]}) and pipedrive_person_id is not null`
      return new Map(rows.map((row) => [row.id, Number(row.at)]))
    },
    /** Epoch ms at which each activity's Pipedrive id was stored; absent while it is not. */
    async activityStoredAt(ids: readonly string[]): Promise<Map<string, number>> {
      const rows = await sql<{ id: string; at: string }[]>`
        select id, extract(epoch from updated_at) * 1000 as at from activities
        where id = any(${ids as string[]}) and pipedrive_activity_id is not null`
      return new Map(rows.map((row) => [row.id, Number(row.at)]))
    },
    async contactStates(ids: readonly string[]): Promise<Map<string, string>> {
      const rows = await sql<{ id: string; state: string }[]>`
        select id, sync_state as state from contacts where id = any(${ids as string[]})`
      return new Map(rows.map((row) => [row.id, row.state]))
    },
    async jobCounts(): Promise<Record<string, number>> {
      const rows = await sql<{ state: string; count: string }[]>`
        select state, count(*) as count from jobs group by state`
      return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)]))
    },
    close: () => sql.end()
  }
}
export type ServiceDb = ReturnType<typeof openServiceDb>
