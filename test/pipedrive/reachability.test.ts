import t from 'tap'
import { PipedriveReachability } from '../../src/pipedrive/reachability.js'

t.test('down after a failure with no success since, for a minute at most', async (t) => {
  const reachability = new PipedriveReachability()
  t.notOk(reachability.looksDown(1_000), 'nothing heard yet: not down')
  reachability.observe({}, 1_000)
  t.ok(reachability.looksDown(1_500), 'a refused connection')
  t.notOk(reachability.looksDown(61_001), 'forgotten after a minute')
  reachability.observe({ status: 503 }, 70_000)
  t.ok(reachability.looksDown(70_001), 'a 503')
  reachability.observe({ status: 429 }, 70_002)
  t.notOk(reachability.looksDown(70_003), 'a 429 is an answer: reachable')
  reachability.observe({ status: 201 }, 80_000)
  t.notOk(reachability.looksDown(80_001))
})
