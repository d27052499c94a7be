import t from 'tap'
import { lazyChildLogger } from '../src/lazy-child-logger.js'
import { captureLog } from './capture-log.js'

t.test('the child is made on the first log call, with its bindings and redaction', async (t) => {
  const { logger, records } = captureLog()
  let made = 0
  const parent = Object.assign(Object.create(logger), {
    child: (...args: Parameters<typeof logger.child>) => {
      made++
      return logger.child(...args)
    }
  })
  const child = lazyChildLogger(parent, { reqId: 'req-1' }, {})
  t.equal(made, 0, 'nothing made for a request that does not log')
  for (const method of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const)
    t.type(child[method], 'function', `${method} is there for Fastify's logger check`)
  child.info({ token: { secret: 'hunter2' }, headers: { authorization: 'Bearer x' } }, 'hello')
  child.debug('below the level')
  t.equal(made, 1, 'made once, on first use')
  t.equal(records().length, 1)
  t.match(records()[0], { reqId: 'req-1', msg: 'hello', headers: { authorization: '[redacted]' } })
  t.notMatch(JSON.stringify(records()), /hunter2|Bearer x/)
  t.equal(child.level, 'info')
  child.level = 'debug'
  child.debug('now shown')
  t.equal(records().length, 2)
  t.match(child.child({ jobId: 'j' }), { info: Function })
})
