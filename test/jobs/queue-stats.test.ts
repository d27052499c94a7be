import t from 'tap'
import { type QueueSnapshot, QueueStatsCache } from '../../src/jobs/queue-stats.js'

function counted() {
  const reader = {
    reads: 0,
    fail: false,
    read: async (): Promise<QueueSnapshot> => {
      reader.reads++
      await new Promise((resolve) => setTimeout(resolve, 5))
      if (reader.fail) throw new Error('database unreachable')
      return { byState: new Map([['pending', reader.reads]]), oldestRunnableAgeSeconds: 0 }
    }
  }
  return reader
}

t.test('one reading serves every scrape until it is maxAgeMs old', async (t) => {
  const reader = counted()
  let now = 1_000
  const cache = new QueueStatsCache(reader.read, { maxAgeMs: 5_000, now: () => now })
  const [a, b] = await Promise.all([cache.snapshot(), cache.snapshot()])
  t.equal(reader.reads, 1, 'two scrapes at once: one query')
  t.equal(a, b)
  now += 4_999
  await cache.snapshot()
  t.equal(reader.reads, 1, 'a scrape within maxAgeMs: no query')
  now += 1
  t.equal((await cache.snapshot()).byState.get('pending'), 2, 'then a new reading')
  t.equal(reader.reads, 2)
})

t.test('a failed reading is not kept: the next scrape asks again', async (t) => {
  const reader = counted()
  const cache = new QueueStatsCache(reader.read, { maxAgeMs: 5_000, now: () => 0 })
  reader.fail = true
  await t.rejects(cache.snapshot(), /unreachable/)
  reader.fail = false
  t.equal((await cache.snapshot()).byState.get('pending'), 2)
})
