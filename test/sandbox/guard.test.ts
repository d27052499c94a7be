import nock from 'nock'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { maybeStartSandbox } from '../../src/sandbox/guard.js'
import { SandboxInProductionError, startSandbox } from '../../src/sandbox/server.js'

nock.disableNetConnect()
nock.enableNetConnect('127.0.0.1')

function collect() {
  const lines: Array<{ object: Record<string, unknown>; message?: string | undefined }> = []
  return {
    lines,
    log: { info: (object: Record<string, unknown>, message?: string) => void lines.push({ object, message }) }
  }
}

t.test(
  'no token outside production: the sandbox starts, the config points at it, one log line',
  async (t) => {
    const { lines, log } = collect()
    const config = loadConfig({ NODE_ENV: 'development' })
    const wiring = await maybeStartSandbox(config, log)
    t.teardown(() => wiring.close())
    t.ok(wiring.sandbox)
    t.equal(wiring.config.PIPEDRIVE_BASE_URL, wiring.sandbox?.url)
    t.equal(wiring.config.PIPEDRIVE_API_TOKEN, 'sandbox-token-owner')
    t.match(wiring.config.PIPEDRIVE_BASE_URL, /^http:\/\/127\.0\.0\.1:\d+$/)
    t.equal(lines.length, 1)
    t.match(lines[0]?.message, /PIPEDRIVE_API_TOKEN is not set: using the built-in Pipedrive sandbox/)
    t.same(wiring.sandbox?.windows.limits, {
      general: { limit: 100, windowMs: 10_000 },
      search: { limit: 10, windowMs: 2_000 }
    })
  }
)

t.test('a token configured: no sandbox', async (t) => {
  const { lines, log } = collect()
  const config = loadConfig({ NODE_ENV: 'development', PIPEDRIVE_API_TOKEN: 'real' })
  const wiring = await maybeStartSandbox(config, log)
  t.equal(wiring.sandbox, undefined)
  t.equal(wiring.config, config)
  t.same(lines, [])
})

t.test('production: never, whatever the caller asks', async (t) => {
  const { log } = collect()
  const config = { ...loadConfig({ NODE_ENV: 'development' }), production: true }
  t.equal((await maybeStartSandbox(config, log)).sandbox, undefined)
  await t.rejects(startSandbox({ production: true }), SandboxInProductionError)
  const previous = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  t.teardown(() => {
    process.env.NODE_ENV = previous
  })
  await t.rejects(startSandbox(), SandboxInProductionError)
})
