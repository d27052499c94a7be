import { sql } from 'drizzle-orm'
import type { Executor } from '../db/database.js'

/** The cheapest round trip to the database: throws when it cannot answer. */
export async function ping(db: Pick<Executor, 'execute'>): Promise<void> {
  await db.execute(sql`select 1`)
}
