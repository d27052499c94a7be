import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { type DatabaseHandle, openDatabase, rows } from '../../src/db/database.js'
import { PipedriveRatePausedError } from '../../src/pipedrive/errors.js'
import type { CallKind, RateBudget } from '../../src/rate-budget/budget.js'
import { type SharedBudgetOptions, SharedRateBudget } from '../../src/rate-budget/shared.js'
import { testDatabase, uid } from '../helper.js'

/**
 * Two SharedRateBudget instances on one database stand for two processes. On PostgreSQL the
 * second has its own connection pool on the same schema, so the slots really are contended.
 */
const database = await testDatabase(t)
const second = await secondHandle(database)

async function secondHandle(first: DatabaseHandle): Promise<DatabaseHandle> {
  const url = process.env.DATABASE_URL
  if (!url) return first // PGlite is one process: both budgets share its single connection.
  const [row] = await rows<{ schema: string }>(first.db, sql`select current_schema() as schema`)
  const handle = await openDatabase({ url, schemaName: row?.schema })
  t.teardown(() => handle.close())
  return handle
}

function budgets(options: SharedBudgetOptions): [SharedRateBudget, SharedRateBudget] {
  return [new SharedRateBudget(database.db, options), new SharedRateBudget(second.db, options)]
}

interface Call {
  instance: number
  index: number
  kind: CallKind
  /** Wall clock (the database's clock on this machine) with sub-millisecond precision. */
  granted: number
  ended: number
}

const clock = () => performance.timeOrigin + performance.now()

/** `count` concurrent calls spread over the budgets, each holding its slot 0–3 ms. */
async function hammer(instances: RateBudget[], count: number, key: string, kindOf: (i: number) => CallKind) {
  const grantOrder: number[][] = instances.map(() => [])
  const calls = await Promise.all(
    Array.from({ length: count }, async (_, index): Promise<Call> => {
      const instance = index % instances.length
      const kind = kindOf(index)
      const permit = await (instances[instance] as RateBudget).acquire(key, kind)
      const granted = clock()
      grantOrder[instance]?.push(index)
      await sleep(Math.floor(Math.random() * 4))
      const ended = clock()
      await permit.release(true)
      return { instance, index, kind, granted, ended }
    })
  )
  return { calls, grantOrder }
}

/**
 * The most requests Pipedrive could see in any window, wherever in [grant, end] each one lands:
 * calls meeting (t − W, t], checked at every grant time t. 1 ms of slack for clock rounding.
 */
function busiestWindow(calls: Call[], windowMs: number): number {
  let worst = 0
  for (const at of calls) {
    const seen = calls.filter((c) => c.granted <= at.granted && c.ended > at.granted - windowMs + 1).length
    worst = Math.max(worst, seen)
  }
  return worst
}

/** Resolves to 'blocked' if the acquire is still waiting after `ms` (and cancels it). */
async function stillBlockedAfter(budget: RateBudget, key: string, kind: CallKind, ms: number) {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error('blocked')), ms)
  try {
    const permit = await budget.acquire(key, kind, controller.signal)
    await permit.release(false)
    return 'granted'
  } catch (error) {
    if ((error as Error).message === 'blocked') return 'blocked'
    throw error
  } finally {
    clearTimeout(timer)
  }
}

const LONG_WINDOW_MS = 60_000

t.test('300 concurrent calls on two instances: never more than the budget in any window', async (t) => {
  const [a, b] = budgets({ general: { limit: 30, windowMs: 250 }, search: { limit: 5, windowMs: 250 } })
  const { calls, grantOrder } = await hammer([a, b], 300, uid('tok'), () => 'general')
  t.equal(calls.length, 300, 'every call granted')
  const worst = busiestWindow(calls, 250)
  t.ok(worst <= 30, `busiest window ${worst} ≤ 30`)
  t.ok(new Set(calls.map((c) => c.instance)).size === 2, 'both instances were granted calls')
  for (const order of grantOrder)
    t.same(
      order,
      [...order].sort((x, y) => x - y),
      'FIFO within a process'
    )
  t.equal(a.waiting + b.waiting, 0)
})

t.test('search calls stay within both budgets on both instances', async (t) => {
  const [a, b] = budgets({ general: { limit: 12, windowMs: 200 }, search: { limit: 3, windowMs: 200 } })
  const { calls } = await hammer([a, b], 60, uid('tok'), (i) => (i % 3 === 0 ? 'search' : 'general'))
  t.equal(calls.length, 60)
  t.ok(busiestWindow(calls, 200) <= 12, `general counts every call: ${busiestWindow(calls, 200)} ≤ 12`)
  const searches = calls.filter((c) => c.kind === 'search')
  t.ok(busiestWindow(searches, 200) <= 3, `search budget: ${busiestWindow(searches, 200)} ≤ 3`)
})

t.test('a search call takes a slot of both budgets', async (t) => {
  const [a, b] = budgets({
    general: { limit: 2, windowMs: LONG_WINDOW_MS },
    search: { limit: 1, windowMs: LONG_WINDOW_MS }
  })
  const key = uid('tok')
  const search = await a.acquire(key, 'search')
  t.equal(
    await stillBlockedAfter(b, key, 'search', 200),
    'blocked',
    'the search budget is used up everywhere'
  )
  const general = await b.acquire(key, 'general')
  t.equal(
    await stillBlockedAfter(b, key, 'general', 200),
    'blocked',
    'the search call used a general slot too'
  )
  await search.release(false)
  await general.release(false)
  await (await b.acquire(key, 'search')).release(false)
})

t.test('a sent request holds its slot for every instance; one never sent frees it at once', async (t) => {
  const [a, b] = budgets({
    general: { limit: 1, windowMs: LONG_WINDOW_MS },
    search: { limit: 1, windowMs: LONG_WINDOW_MS }
  })
  const key = uid('tok')
  const sent = await a.acquire(key, 'general')
  t.equal(await stillBlockedAfter(b, key, 'general', 200), 'blocked', 'held while in flight')
  await sent.release(true)
  t.equal(await stillBlockedAfter(b, key, 'general', 200), 'blocked', 'counted for a window after it ended')

  const other = uid('tok')
  const refused = await a.acquire(other, 'general')
  await refused.release(false)
  const next = await b.acquire(other, 'general') // a 60 s window: granted only because the slot came back
  t.pass('the other instance got the slot of the unsent request')
  await next.release(false)
})

t.test('a sent request counts for a whole window from when it ended', async (t) => {
  const [a, b] = budgets({ general: { limit: 1, windowMs: 150 }, search: { limit: 1, windowMs: 150 } })
  const key = uid('tok')
  const permit = await a.acquire(key, 'general')
  await sleep(250) // a call slower than the window
  const ended = clock()
  await permit.release(true)
  await b.acquire(key, 'general')
  t.ok(clock() - ended >= 149, 'the next slot opens one window after the end, not after the grant')
})

t.test('a pause on one instance holds the token on the other', async (t) => {
  const [a, b] = budgets({ general: { limit: 100, windowMs: 1_000 }, search: { limit: 10, windowMs: 1_000 } })
  const key = uid('tok')
  const pausedAt = clock()
  await a.pause(key, 300)
  const order: string[] = []
  const held = b.acquire(key, 'general').then((permit) => {
    order.push('paused token')
    return permit
  })
  await (await b.acquire(uid('tok'), 'general')).release(false)
  order.push('other token')
  const permit = await held
  t.same(order, ['other token', 'paused token'], 'only the paused token waits')
  t.ok(clock() - pausedAt >= 299, 'held until the pause ended')
  t.ok(permit.waitedMs > 0, 'waitedMs reports the wait')
  await a.pause(key, 50) // a shorter pause does not cut a longer one short
  await a.pause(key, LONG_WINDOW_MS)
  await a.pause(key, 50)
  t.equal(await stillBlockedAfter(b, key, 'general', 200), 'blocked', 'the longest pause stands')
})

t.test(
  'a pause longer than maxPauseWaitMs rejects the token’s calls at once, on every instance',
  async (t) => {
    const [a, b] = budgets({
      general: { limit: 100, windowMs: 1_000 },
      search: { limit: 10, windowMs: 1_000 },
      maxPauseWaitMs: 200
    })
    const key = uid('tok')
    await a.pause(key, 5_000)
    const start = clock()
    const refused = await Promise.allSettled([
      a.acquire(key, 'general'),
      b.acquire(key, 'general'),
      b.acquire(key, 'search')
    ])
    t.ok(clock() - start < 1_000, `at once, not after the pause (${Math.round(clock() - start)} ms)`)
    for (const outcome of refused) {
      t.equal(outcome.status, 'rejected')
      const error = (outcome as PromiseRejectedResult).reason as PipedriveRatePausedError
      t.type(error, PipedriveRatePausedError)
      t.ok(
        error.waitMs > 3_000 && error.waitMs <= 5_000,
        `says how long the pause lasts (${error.waitMs} ms)`
      )
    }
    t.equal(a.waiting + b.waiting, 0, 'nothing left waiting')
    await (await b.acquire(uid('tok'), 'general')).release(false)
    t.pass('another token is granted')
    const short = uid('tok')
    await a.pause(short, 150)
    const pausedAt = clock()
    await (await b.acquire(short, 'general')).release(false)
    t.ok(clock() - pausedAt >= 149, 'a pause within maxPauseWaitMs is waited out')
  }
)

t.test(
  'abort: a waiting call is rejected with the reason, the queue moves on, nothing is used',
  async (t) => {
    const [a, b] = budgets({
      general: { limit: 1, windowMs: LONG_WINDOW_MS },
      search: { limit: 1, windowMs: LONG_WINDOW_MS }
    })
    const key = uid('tok')
    const done = new AbortController()
    done.abort(new Error('already gone'))
    await t.rejects(
      a.acquire(key, 'general', done.signal),
      { message: 'already gone' },
      'an aborted signal fails at once'
    )

    const held = await a.acquire(key, 'general')
    const controller = new AbortController()
    const aborted = b.acquire(key, 'general', controller.signal)
    const after = b.acquire(key, 'general')
    await sleep(50)
    controller.abort(new Error('shutting down'))
    await t.rejects(aborted, { message: 'shutting down' })
    await held.release(false)
    await (await after).release(false)
    t.equal(a.waiting + b.waiting, 0)
  }
)

t.test('a process that dies mid-call frees its slots after the hold', async (t) => {
  const options = { general: { limit: 1, windowMs: 100 }, search: { limit: 1, windowMs: 100 }, holdMs: 200 }
  const [crashed, alive] = budgets(options)
  const key = uid('tok')
  await crashed.acquire(key, 'general') // never released
  await alive.acquire(key, 'general')
  t.pass('granted once hold + window had passed')
})

t.test(
  'a lower limit uses only the first slots; a stray late release does not free a reused slot',
  async (t) => {
    const key = uid('tok')
    const [wide] = budgets({
      general: { limit: 3, windowMs: LONG_WINDOW_MS },
      search: { limit: 1, windowMs: LONG_WINDOW_MS }
    })
    await (await wide.acquire(key, 'general')).release(false)
    const [narrow] = budgets({
      general: { limit: 1, windowMs: LONG_WINDOW_MS },
      search: { limit: 1, windowMs: LONG_WINDOW_MS }
    })
    const only = await narrow.acquire(key, 'general')
    t.equal(await stillBlockedAfter(narrow, key, 'general', 200), 'blocked', 'slots 2 and 3 are not used')
    await only.release(true)
    await only.release(false)
    t.equal(
      await stillBlockedAfter(narrow, key, 'general', 100),
      'blocked',
      'a second release changes nothing'
    )
  }
)

t.test('rejects impossible budgets', async (t) => {
  t.throws(
    () =>
      new SharedRateBudget(database.db, {
        general: { limit: 0, windowMs: 1 },
        search: { limit: 1, windowMs: 1 }
      })
  )
  t.throws(
    () =>
      new SharedRateBudget(database.db, {
        general: { limit: 1.5, windowMs: 1 },
        search: { limit: 1, windowMs: 1 }
      })
  )
})

t.test('each permit says how many slots of its budgets were left after it', async (t) => {
  const [budget] = budgets({
    general: { limit: 4, windowMs: 60_000 },
    search: { limit: 2, windowMs: 60_000 }
  })
  const key = uid('spare')
  const general = await budget.acquire(key, 'general')
  const search = await budget.acquire(key, 'search')
  const last = await budget.acquire(key, 'search')
  t.same(
    [general.spare, search.spare, last.spare],
    [3, 1, 0],
    'a search reports the fuller of its two budgets'
  )
  const batch = await Promise.all([1, 2, 3].map(() => budget.acquire(uid('spare'), 'general')))
  t.same(
    batch.map((permit) => permit.spare),
    [3, 3, 3],
    'separate tokens'
  )
  const together = await Promise.all([1, 2, 3].map(() => budget.acquire(key.concat('-b'), 'general')))
  t.same(
    together.map((permit) => permit.spare),
    [3, 2, 1],
    'callers granted by one query each get their own count'
  )
})

t.test('the budget bookkeeping does not wait for the disk on commit; every other write does', async (t) => {
  const setting = async (db: typeof database.db) =>
    (await rows<{ value: string }>(db, sql`select current_setting('synchronous_commit') as value`))[0]?.value
  const schemaOf = async (db: typeof database.db) =>
    (await rows<{ schema: string }>(db, sql`select current_schema() as schema`))[0]?.schema
  if (database.kind === 'pglite') {
    t.equal(database.bookkeeping, database.db, 'PGlite: one database')
    return
  }
  t.equal(await setting(database.bookkeeping), 'off')
  t.equal(await setting(database.db), 'on')
  t.equal(await schemaOf(database.bookkeeping), await schemaOf(database.db), 'the same tables')
})

t.test('a search call waiting for the search budget lets the general calls behind it go ahead', async (t) => {
  const [a] = budgets({
    general: { limit: 4, windowMs: LONG_WINDOW_MS },
    search: { limit: 1, windowMs: LONG_WINDOW_MS }
  })
  const key = uid('tok')
  const firstSearch = await a.acquire(key, 'search')
  const order: string[] = []
  const secondSearch = a.acquire(key, 'search').then((permit) => {
    order.push('search')
    return permit
  })
  const generals = [1, 2].map((n) =>
    a.acquire(key, 'general').then((permit) => {
      order.push(`general ${n}`)
      return permit
    })
  )
  const granted = await Promise.all(generals)
  t.same(order, ['general 1', 'general 2'], 'granted while the search call still waits, in their own order')
  t.equal(a.waiting, 1, 'the search call still waits')
  await firstSearch.release(false)
  const second = await secondSearch
  t.same(order, ['general 1', 'general 2', 'search'])
  for (const permit of [...granted, second]) await permit.release(false)
})

t.test('a search call waiting for the general budget is not overtaken', async (t) => {
  const [a] = budgets({
    general: { limit: 1, windowMs: LONG_WINDOW_MS },
    search: { limit: 5, windowMs: LONG_WINDOW_MS }
  })
  const key = uid('tok')
  const held = await a.acquire(key, 'general')
  const order: string[] = []
  const search = a.acquire(key, 'search').then((permit) => {
    order.push('search')
    return permit
  })
  const general = a.acquire(key, 'general').then((permit) => {
    order.push('general')
    return permit
  })
  await sleep(100)
  t.same(order, [], 'both wait for the one general slot')
  await held.release(false)
  const first = await search
  t.same(order, ['search'], 'the search call, first in line, gets it')
  await first.release(false)
  await (await general).release(false)
  t.same(order, ['search', 'general'])
})
