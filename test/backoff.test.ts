import t from 'tap'
import { exponentialBackoff } from '../src/backoff.js'

t.test('doubles from the base at each step, up to the cap', async (t) => {
  const policy = { baseMs: 100, maxMs: 500, jitter: 0 }
  t.same(
    [0, 1, 2, 3, 4].map((step) => exponentialBackoff(step, policy)),
    [100, 200, 400, 500, 500]
  )
  t.equal(exponentialBackoff(-3, policy), 100, 'a step below 0 waits the base')
  t.equal(exponentialBackoff(1_000, policy), 500, 'huge steps stay finite')
  t.equal(exponentialBackoff(3, { baseMs: 100, jitter: 0 }), 800, 'no cap: it keeps doubling')
})

t.test('jitter adds up to its fraction, or takes it off when negative', async (t) => {
  t.equal(
    exponentialBackoff(0, { baseMs: 1_000, jitter: 0.2 }, () => 1),
    1_200
  )
  t.equal(
    exponentialBackoff(0, { baseMs: 1_000, jitter: 0.2 }, () => 0),
    1_000
  )
  t.equal(
    exponentialBackoff(2, { baseMs: 1_000, maxMs: 3_000, jitter: -0.2 }, () => 1),
    2_400
  )
  t.equal(
    exponentialBackoff(0, { baseMs: 333, jitter: 0.2 }, () => 0.5),
    366,
    'whole milliseconds'
  )
})
