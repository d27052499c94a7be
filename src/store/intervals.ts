import { type SQL, sql } from 'drizzle-orm'

// Times are the database's (`now()`), never this process's clock: every instance agrees on them.

/** The moment `ms` milliseconds from now. */
export function afterMs(ms: number): SQL {
  return sql`now() + ${ms} * interval '1 millisecond'`
}

/** The moment `ms` milliseconds ago. */
export function beforeMs(ms: number): SQL {
  return sql`now() - ${ms} * interval '1 millisecond'`
}
