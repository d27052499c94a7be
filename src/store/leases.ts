import { and, eq, lt, sql } from 'drizzle-orm'
import type { Executor } from '../db/database.js'
import { leases } from '../db/schema.js'
import type { JobLease } from '../jobs/job-lease.js'
import { leaseHeld } from './job-leases.js'

/** The one lease of an organization's find-or-create in Pipedrive. */
export const organizationLeaseName = (organizationId: string) => `organization:${organizationId}`

const untilIn = (leaseMs: number) => sql`now() + ${leaseMs} * interval '1 millisecond'`

/** Takes the lease `name` for `token` when nobody holds it or its holder's lease lapsed. */
export async function takeLease(
  db: Executor,
  name: string,
  token: string,
  leaseMs: number
): Promise<boolean> {
  const taken = await db
    .insert(leases)
    .values({ name, token, until: untilIn(leaseMs) })
    .onConflictDoUpdate({
      target: leases.name,
      set: { token: sql`excluded.token`, until: sql`excluded.until` },
      setWhere: lt(leases.until, sql`now()`)
    })
    .returning({ name: leases.name })
  return taken.length > 0
}

/**
 * Extends the lease while `token` holds it — and, given `whileJobHolds`, only while that job still
 * holds its own. False when it was not extended.
 */
export async function renewLease(
  db: Executor,
  name: string,
  token: string,
  leaseMs: number,
  whileJobHolds?: JobLease
): Promise<boolean> {
  const renewed = await db
    .update(leases)
    .set({ until: untilIn(leaseMs) })
    .where(
      and(
        eq(leases.name, name),
        eq(leases.token, token),
        whileJobHolds === undefined ? undefined : leaseHeld(whileJobHolds)
      )
    )
    .returning({ name: leases.name })
  return renewed.length > 0
}

/** Ends the lease if `token` still holds it; true when it did. */
export async function releaseLease(db: Executor, name: string, token: string): Promise<boolean> {
  const released = await db
    .delete(leases)
    .where(and(eq(leases.name, name), eq(leases.token, token)))
    .returning({ name: leases.name })
  return released.length > 0
}
