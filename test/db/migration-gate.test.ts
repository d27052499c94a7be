import t from 'tap'
import { MigrationGate } from '../../src/db/migration-gate.js'

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('applied at once: start runs before whenApplied resolves', async (t) => {
  const gate = new MigrationGate(async () => true)
  let started = 0
  await gate.whenApplied(() => started++)
  t.equal(started, 1)
  gate.close()
})

t.test('missing: start waits; a request that finds them applied starts it at once', async (t) => {
  let applied = false
  const gate = new MigrationGate(async () => applied)
  t.teardown(() => gate.close())
  let started = 0
  await gate.whenApplied(() => started++)
  await settle(20)
  t.equal(started, 0, 'not while migrations are missing')
  await t.rejects(gate.check(), { code: 'PDS_MIGRATIONS_MISSING', statusCode: 503 })
  applied = true
  await gate.check()
  await settle(20)
  t.equal(started, 1, 'started without waiting for the next background look')
  await settle(20)
  t.equal(started, 1, 'once')
})

t.test('never after close()', async (t) => {
  let applied = false
  const gate = new MigrationGate(async () => applied)
  let started = 0
  await gate.whenApplied(() => started++)
  gate.close()
  applied = true
  await gate.check()
  await settle(20)
  t.equal(started, 0)
})
