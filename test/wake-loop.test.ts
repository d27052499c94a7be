import t from 'tap'
import { type PassResult, WakeLoop } from '../src/wake-loop.js'

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits for `check` without a fixed time, which a loaded machine could overrun. */
async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await settle(5)
}

/** A loop whose passes are counted; `next` chooses what each pass asks for. */
function counting(next: (pass: number) => PassResult | Promise<PassResult>, pollIntervalMs = 10_000) {
  const errors: Array<{ error: unknown; retryInMs: number }> = []
  let passes = 0
  const loop = new WakeLoop({
    pass: async () => next(++passes),
    pollIntervalMs,
    onError: (error, retryInMs) => void errors.push({ error, retryInMs })
  })
  return { loop, errors, passes: () => passes }
}

t.test('idle passes sleep until the poll interval, or until woken', async (t) => {
  const { loop, passes } = counting(() => 'idle', 30)
  t.teardown(() => loop.stop())
  const started = performance.now()
  loop.start()
  await eventually(() => passes() >= 3)
  t.ok(performance.now() - started >= 60, 'two sleeps of the poll interval between three passes')

  const slow = counting(() => 'idle')
  t.teardown(() => slow.loop.stop())
  slow.loop.start()
  await settle(10)
  t.equal(slow.passes(), 1)
  slow.loop.wake()
  await settle(10)
  t.equal(slow.passes(), 2, 'woken: the next pass runs at once')
})

t.test('a wake-up during a pass is not lost; `again` and a delay are honoured', async (t) => {
  let release: () => void = () => {}
  const { loop, passes } = counting(async (pass) => {
    if (pass === 1) await new Promise<void>((resolve) => (release = resolve))
    if (pass === 3) return 'again'
    return pass === 5 ? 20 : 'idle'
  })
  t.teardown(() => loop.stop())
  loop.start()
  await settle(5)
  loop.wake()
  release()
  await settle(10)
  t.equal(passes(), 2, 'woken while the first pass ran: the second follows without sleeping')
  loop.wake()
  await settle(10)
  t.equal(passes(), 4, '`again` runs the next pass at once')
  loop.wake()
  await settle(10)
  t.equal(passes(), 5)
  await settle(40)
  t.equal(passes(), 6, 'a pass asking for 20 ms gets them, not the poll interval')
})

t.test('a failing pass is reported and backed off, doubling from the poll interval', async (t) => {
  const { loop, errors, passes } = counting((pass) => {
    if (pass <= 3) throw new Error(`failure ${pass}`)
    return 'idle'
  }, 10)
  t.teardown(() => loop.stop())
  loop.start()
  await eventually(() => passes() >= 4)
  t.same(
    errors.map(({ error, retryInMs }) => [(error as Error).message, retryInMs]),
    [
      ['failure 1', 10],
      ['failure 2', 20],
      ['failure 3', 40]
    ]
  )
})

t.test('`done` ends the loop until it is started again', async (t) => {
  const { loop, passes } = counting((pass) => (pass === 1 ? 'done' : 'idle'))
  t.teardown(() => loop.stop())
  loop.start()
  await settle(10)
  loop.wake()
  await settle(10)
  t.equal(passes(), 1, 'ended: a wake-up runs nothing')
  loop.start()
  await settle(10)
  t.equal(passes(), 2, 'started again')
})

t.test('start() while a pass runs: a `done` from that pass does not end the loop', async (t) => {
  let release: () => void = () => {}
  const { loop, passes } = counting(async (pass): Promise<PassResult> => {
    if (pass === 1) await new Promise<void>((resolve) => (release = resolve))
    return 'done'
  })
  t.teardown(() => loop.stop())
  loop.start()
  await settle(5)
  loop.start()
  release()
  await settle(10)
  t.equal(passes(), 2, 'one more pass sees what the caller of start() added')
})

t.test('stop() aborts the signal, waits for the pass in progress, and nothing runs after it', async (t) => {
  let sawAbort = false
  let passes = 0
  const loop = new WakeLoop({
    pass: async (signal) => {
      passes++
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
      await settle(20)
      sawAbort = true
      return 'again'
    },
    pollIntervalMs: 10,
    onError: () => {}
  })
  loop.start()
  await settle(5)
  t.notOk(loop.signal.aborted)
  await loop.stop()
  t.ok(loop.signal.aborted)
  t.ok(sawAbort, 'stop() resolved only after the pass ended')
  loop.start()
  loop.wake()
  await settle(30)
  t.equal(passes, 1, 'no pass after stop, not even when started or woken')
})
