import { type SQL, sql } from 'drizzle-orm'
import { type Executor, rows } from '../db/database.js'
import type { rateSlots } from '../db/schema.js'
import type { BudgetLimit, CallKind } from '../rate-budget/budget.js'

/**
 * The statements behind the shared rate budget (tables `rate_slots`, `rate_pauses`). A budget of
 * `limit` requests per window is `limit` slot rows; a slot is free once its `used_at` is a window
 * old. Every comparison uses the database clock, so instances whose clocks disagree still agree.
 */

/** One budget a call needs: the general one always, the search one too for a search call. */
export interface SlotNeed extends BudgetLimit {
  kind: CallKind
}

type RateSlot = typeof rateSlots.$inferSelect

/**
 * A slot taken for one call, with two readings of its `used_at`. They stay text: a JS Date would
 * drop the microseconds, and release matches on the exact value.
 * - `held`: `used_at` while the call runs (now + hold); release matches on it, so a slot that
 *   expired and went to another call is left alone.
 * - `previous`: `used_at` before the grant (already a window old): what a call that was never
 *   sent gives back.
 */
export type TakenSlot = Pick<RateSlot, 'kind' | 'slot'> & Record<'held' | 'previous', string>

/** A row of the grant statement: the slot, which of the batch's calls it is for (1-based), and that call's spare. */
type GrantedSlot = TakenSlot & Record<'call' | 'spare', number | string>

/** What msUntilFree reads (numbers may come back as text, depending on the driver). */
type FreeIn = Record<'waitMs' | 'pausedMs', number | string>

// A fresh slot must be free at once; the column's default (now()) would hold it for a window.
const NEVER_USED = sql`'epoch'::timestamptz`

function ms(value: number): SQL {
  return sql`(${value} * interval '1 millisecond')`
}

/** Creates the slots `1..limit` of a budget that do not exist yet (idempotent, any instance). */
export async function ensureSlots(db: Executor, key: string, need: SlotNeed): Promise<void> {
  await db.execute(sql`
    insert into rate_slots (token_key, kind, slot, used_at)
    select ${key}, ${need.kind}, n, ${NEVER_USED} from generate_series(1, ${need.limit}::int) as n
    on conflict do nothing`)
}

/** One call's slots, and how many more calls its budgets had room for (RatePermit.spare). */
export interface SlotGrant {
  slots: TakenSlot[]
  spare: number
}

/**
 * Takes free slots for up to `calls` calls, each needing one slot of every budget in `needs`
 * (all of them or none), unless the token is paused. Oldest slots go first and are paired by
 * age across budgets. Rows another instance is taking are skipped, not waited for. Slots above
 * the configured limit are ignored, so lowering the limit needs no clean-up.
 */
export async function takeSlots(
  db: Executor,
  key: string,
  needs: readonly SlotNeed[],
  calls: number,
  holdMs: number
): Promise<SlotGrant[]> {
  // One CTE per budget: FOR UPDATE is allowed neither in a UNION branch nor next to a window function.
  const candidates = needs.map(
    (need, i) => sql`${sql.raw(`need${i}`)} as (
      select kind, slot, used_at, row_number() over (order by used_at, slot) as call from (
        select kind, slot, used_at from rate_slots
        where token_key = ${key} and kind = ${need.kind} and slot <= ${need.limit}::int
          and used_at <= now() - ${ms(need.windowMs)}
          and not exists (select 1 from rate_pauses where token_key = ${key} and paused_until > now())
        order by used_at, slot limit ${calls}::int
        for update skip locked) as free)`
  )
  const served = sql.join(
    needs.map((_, i) => sql.raw(`(select count(*) from need${i})`)),
    sql`, `
  )
  const picked = sql.join(
    needs.map((_, i) => sql.raw(`select * from need${i} where call <= (select n from served)`)),
    sql` union all `
  )
  // Free slots before this grant (rows other instances are taking count as free: an over-estimate).
  const free = sql.join(
    needs.map(
      (need) => sql`(select count(*) from rate_slots
        where token_key = ${key} and kind = ${need.kind} and slot <= ${need.limit}::int
          and used_at <= now() - ${ms(need.windowMs)})`
    ),
    sql`, `
  )
  const taken = await rows<GrantedSlot>(
    db,
    sql`
    with ${sql.join(candidates, sql`, `)},
      served as (select least(${served}) as n),
      picked as materialized (${picked})
    update rate_slots r set used_at = now() + ${ms(holdMs)}
    from picked
    where r.token_key = ${key} and r.kind = picked.kind and r.slot = picked.slot
    returning picked.call, least(${free}) - picked.call as spare, r.kind, r.slot,
      r.used_at::text as held, picked.used_at::text as previous`
  )
  const grants: SlotGrant[] = []
  for (const { call, spare, ...slot } of taken) {
    const index = Number(call) - 1
    const grant = grants[index] ?? { slots: [], spare: Math.max(0, Number(spare)) }
    grant.slots.push(slot)
    grants[index] = grant
  }
  return grants
}

/** A finished call's slots, and whether its request was sent. */
export interface SlotRelease {
  key: string
  slots: readonly TakenSlot[]
  sent: boolean
}

/**
 * Ends calls' holds, any number in one statement. Sent: the request counts for a full window
 * from now, the end of the call (docs/pipedrive.md, the sliding-window pitfall). Not sent: the
 * slot is free again at once.
 */
export async function returnSlots(db: Executor, releases: readonly SlotRelease[]): Promise<void> {
  const values = releases.flatMap(({ key, slots, sent }) =>
    slots.map(
      (s) =>
        sql`(${key}::text, ${s.kind}::text, ${s.slot}::int, ${s.held}::timestamptz, ${s.previous}::timestamptz, ${sent}::boolean)`
    )
  )
  if (values.length === 0) return
  await db.execute(sql`
    update rate_slots r set used_at = case when v.sent then now() else v.previous end
    from (values ${sql.join(values, sql`, `)}) as v(token_key, kind, slot, held, previous, sent)
    where r.token_key = v.token_key and r.kind = v.kind and r.slot = v.slot and r.used_at = v.held`)
}

/**
 * How long until a call of these budgets could be granted (`waitMs`): the end of a pause, or when
 * the oldest slot of each budget is a window old; and how much of that is the pause (`pausedMs`).
 * Slots held by running calls count with their hold, which over-estimates (they usually end
 * sooner), so callers poll at a shorter interval too.
 */
export async function msUntilFree(
  db: Executor,
  key: string,
  needs: readonly SlotNeed[]
): Promise<{ waitMs: number; pausedMs: number }> {
  const budgets = needs.map(
    (need) => sql`coalesce((
      select extract(epoch from min(used_at) + ${ms(need.windowMs)} - now()) * 1000
      from rate_slots where token_key = ${key} and kind = ${need.kind} and slot <= ${need.limit}::int), 0)`
  )
  const [row] = await rows<FreeIn>(
    db,
    sql`select greatest(pause.ms, ${sql.join(budgets, sql`, `)})::float8 as "waitMs", pause.ms::float8 as "pausedMs"
      from (select greatest(0, coalesce((select extract(epoch from paused_until - now()) * 1000
        from rate_pauses where token_key = ${key}), 0)) as ms) as pause`
  )
  return { waitMs: Number(row?.waitMs ?? 0), pausedMs: Number(row?.pausedMs ?? 0) }
}

/** No call of the token is granted, on any instance, for `pauseMs`; a longer pause already set stands. */
export async function pauseToken(db: Executor, key: string, pauseMs: number): Promise<void> {
  await db.execute(sql`
    insert into rate_pauses (token_key, paused_until) values (${key}, now() + ${ms(pauseMs)})
    on conflict (token_key) do update
      set paused_until = greatest(rate_pauses.paused_until, excluded.paused_until)`)
}
