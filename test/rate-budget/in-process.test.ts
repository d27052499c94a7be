import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { PipedriveRatePausedError } from '../../src/pipedrive/errors.js'
import type { CallKind } from '../../src/rate-budget/budget.js'
import { InProcessRateBudget } from '../../src/rate-budget/in-process.js'

interface Call {
  index: number
  kind: CallKind
  granted: number
  ended: number
}

/** Runs `count` concurrent calls through the budget, each holding its slot 0–3 ms. */
async function hammer(
  budget: InProcessRateBudget,
  count: number,
  kindOf: (i: number) => CallKind,
  key = 'token'
) {
  const grantOrder: number[] = []
  const calls = await Promise.all(
    Array.from({ length: count }, async (_, index): Promise<Call> => {
      const kind = kindOf(index)
      const permit = await budget.acquire(key, kind)
      const granted = performance.now()
      grantOrder.push(index)
      await sleep(Math.floor(Math.random() * 4))
      // The call ends when it hands its slot back; measured after release, a busy event loop
      // would stretch the interval and count requests the budget had already let go.
      const ended = performance.now()
      await permit.release(true)
      return { index, kind, granted, ended }
    })
  )
  return { calls, grantOrder }
}

/**
 * The most requests Pipedrive could see in any window, wherever in [grant, end] each one lands:
 * intervals meeting (t − W, t], checked at every grant time t. 1 ms of slack for timer jitter.
 */
function busiestWindow(calls: Call[], windowMs: number): number {
  let worst = 0
  for (const at of calls) {
    const t = at.granted
    const seen = calls.filter((c) => c.granted <= t && c.ended > t - windowMs + 1).length
    worst = Math.max(worst, seen)
  }
  return worst
}

t.test('500 concurrent calls: never more than the budget in any window, granted in FIFO order', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 25, windowMs: 80 },
    search: { limit: 5, windowMs: 80 }
  })
  const { calls, grantOrder } = await hammer(budget, 500, () => 'general')
  t.ok(busiestWindow(calls, 80) <= 25, `busiest window ${busiestWindow(calls, 80)} ≤ 25`)
  t.same(
    grantOrder,
    calls.map((c) => c.index),
    'FIFO'
  )
  t.equal(budget.waiting, 0)
})

t.test('search calls stay within both budgets', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 20, windowMs: 60 },
    search: { limit: 4, windowMs: 60 }
  })
  const { calls, grantOrder } = await hammer(budget, 200, (i) => (i % 3 === 0 ? 'search' : 'general'))
  t.ok(busiestWindow(calls, 60) <= 20, 'general budget counts every call')
  const searches = calls.filter((c) => c.kind === 'search')
  t.ok(busiestWindow(searches, 60) <= 4, `search budget: ${busiestWindow(searches, 60)} ≤ 4`)
  const kindOf = (index: number) => (index % 3 === 0 ? 'search' : 'general')
  for (const kind of ['search', 'general'] as const) {
    const order = grantOrder.filter((index) => kindOf(index) === kind)
    t.same(
      order,
      [...order].sort((a, b) => a - b),
      `${kind} calls in arrival order (general ones may pass a search call waiting for its budget)`
    )
  }
})

t.test('tokens have separate budgets', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 1, windowMs: 60_000 },
    search: { limit: 1, windowMs: 60_000 }
  })
  const first = await budget.acquire('a', 'general')
  await first.release(true)
  const order: string[] = []
  const controller = new AbortController()
  const blocked = budget.acquire('a', 'general', controller.signal).then(() => order.push('a'))
  await budget.acquire('b', 'general').then(() => order.push('b'))
  t.same(order, ['b'], 'token b is not held up by token a')
  t.equal(budget.waiting, 1)
  controller.abort(new Error('done'))
  await t.rejects(blocked)
})

t.test('a pause (429 retry-after, remaining: 0) holds every call of that token', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 100, windowMs: 1000 },
    search: { limit: 10, windowMs: 1000 }
  })
  const pausedAt = performance.now()
  budget.pause('a', 150)
  const order: string[] = []
  const waited = Promise.all([
    budget.acquire('a', 'general').then((p) => {
      order.push('a1')
      return p
    }),
    budget.acquire('a', 'search').then((p) => {
      order.push('a2')
      return p
    })
  ])
  await budget.acquire('b', 'general').then(() => order.push('b'))
  const permits = await waited
  const elapsed = performance.now() - pausedAt
  t.same(order, ['b', 'a1', 'a2'])
  t.ok(elapsed >= 149, `held for the pause (${elapsed.toFixed(1)} ms)`)
  t.ok((permits[0]?.waitedMs ?? 0) >= 148, 'waitedMs reports the wait')
})

t.test(
  'a pause longer than maxPauseWaitMs rejects the token’s calls at once; a short one is waited',
  async (t) => {
    const budget = new InProcessRateBudget({
      general: { limit: 100, windowMs: 1000 },
      search: { limit: 10, windowMs: 1000 },
      maxPauseWaitMs: 200
    })
    budget.pause('a', 5_000)
    const start = performance.now()
    const refused = await Promise.allSettled([budget.acquire('a', 'general'), budget.acquire('a', 'search')])
    t.ok(performance.now() - start < 100, 'at once, not after the pause')
    for (const outcome of refused) {
      t.equal(outcome.status, 'rejected')
      const error = (outcome as PromiseRejectedResult).reason as PipedriveRatePausedError
      t.type(error, PipedriveRatePausedError)
      t.ok(
        error.waitMs > 4_900 && error.waitMs <= 5_000,
        `says how long the pause lasts (${error.waitMs} ms)`
      )
    }
    t.equal(budget.waiting, 0, 'nothing left waiting')
    await (await budget.acquire('b', 'general')).release(true)
    t.pass('another token is granted')
    budget.pause('c', 150)
    const pausedAt = performance.now()
    await (await budget.acquire('c', 'general')).release(true)
    t.ok(performance.now() - pausedAt >= 149, 'a pause within maxPauseWaitMs is waited out')
  }
)

t.test('a request that was never sent frees its slot at once', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 1, windowMs: 60_000 },
    search: { limit: 1, windowMs: 60_000 }
  })
  const refused = await budget.acquire('a', 'general')
  await refused.release(false)
  const next = await Promise.race([budget.acquire('a', 'general'), sleep(2000, 'blocked', { ref: false })])
  t.not(next, 'blocked', 'granted without waiting a window')
})

t.test('a sent request counts for a whole window from when it ended', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 1, windowMs: 100 },
    search: { limit: 1, windowMs: 100 }
  })
  const permit = await budget.acquire('a', 'general')
  await sleep(150) // a slow call: longer than the window
  const ended = performance.now()
  await permit.release(true)
  await budget.acquire('a', 'general')
  t.ok(performance.now() - ended >= 99, 'the next slot opens one window after the end, not after the grant')
})

t.test('a waiting call can be aborted and the queue moves on', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 1, windowMs: 60_000 },
    search: { limit: 1, windowMs: 60_000 }
  })
  const held = await budget.acquire('a', 'general')
  const controller = new AbortController()
  const aborted = budget.acquire('a', 'general', controller.signal)
  const after = budget.acquire('a', 'general')
  controller.abort(new Error('shutting down'))
  await t.rejects(aborted, { message: 'shutting down' })
  await held.release(false)
  await after
  t.equal(budget.waiting, 0)
})

t.test('rejects impossible budgets', async (t) => {
  t.throws(
    () => new InProcessRateBudget({ general: { limit: 0, windowMs: 1 }, search: { limit: 1, windowMs: 1 } })
  )
})

t.test('each permit says how many slots of its budgets were left after it', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 4, windowMs: 60_000 },
    search: { limit: 2, windowMs: 60_000 }
  })
  const general = await budget.acquire('token', 'general')
  const search = await budget.acquire('token', 'search')
  const last = await budget.acquire('token', 'search')
  t.same(
    [general.spare, search.spare, last.spare],
    [3, 1, 0],
    'a search reports the fuller of its two budgets'
  )
})

t.test('a search call waiting for the search budget lets the general calls behind it go ahead', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 4, windowMs: 60_000 },
    search: { limit: 1, windowMs: 60_000 }
  })
  const firstSearch = await budget.acquire('token', 'search')
  const order: string[] = []
  const secondSearch = budget.acquire('token', 'search').then((permit) => {
    order.push('search')
    return permit
  })
  const granted = await Promise.all(
    [1, 2].map((n) =>
      budget.acquire('token', 'general').then((permit) => {
        order.push(`general ${n}`)
        return permit
      })
    )
  )
  t.same(order, ['general 1', 'general 2'], 'granted while the search call still waits')
  t.equal(budget.waiting, 1)
  await firstSearch.release(false)
  const second = await secondSearch
  t.same(order, ['general 1', 'general 2', 'search'])
  for (const permit of [...granted, second]) await permit.release(false)
})

t.test('a search call waiting for the general budget is not overtaken', async (t) => {
  const budget = new InProcessRateBudget({
    general: { limit: 1, windowMs: 60_000 },
    search: { limit: 5, windowMs: 60_000 }
  })
  const held = await budget.acquire('token', 'general')
  const order: string[] = []
  const search = budget.acquire('token', 'search').then((permit) => {
    order.push('search')
    return permit
  })
  const general = budget.acquire('token', 'general').then((permit) => {
    order.push('general')
    return permit
  })
  await sleep(50)
  t.same(order, [])
  await held.release(false)
  await (await search).release(false)
  await (await general).release(false)
  t.same(order, ['search', 'general'], 'first in line first')
})
