import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { spawnTs, waitForOutput } from '../harness/processes.js'
import { contactEvent, eventually, signedHeaders, TEST_OPERATOR_KEY, TEST_SECRET } from './helper.js'

t.test('production with missing or malformed values: exit ≠ 0 with one message listing them', async (t) => {
  const { exited, output } = spawnTs('src/server.ts', {
    NODE_ENV: 'production',
    PORT: 'x',
    LOG_LEVEL: 'silent'
  })
  const code = await exited
  t.not(code, 0)
  t.match(output(), /cannot start: invalid configuration/)
  for (const name of ['WEBHOOK_SECRETS', 'OPERATOR_API_KEY', 'PIPEDRIVE_API_TOKEN', 'PORT'])
    t.match(output(), name)
})

t.test(
  'with nothing else configured: the sandbox; /health, a signed event synced, exit 0 on SIGTERM',
  async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pipedrive-sync-'))
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      WEBHOOK_SECRETS: TEST_SECRET,
      OPERATOR_API_KEY: TEST_OPERATOR_KEY
    }
    const server = spawnTs('src/server.ts', env)
    const { output } = server
    t.teardown(() => server.kill())
    const [, base] = await waitForOutput(server, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/)
    t.equal((await fetch(`${base}/health`)).status, 200)
    t.equal((await fetch(`${base}/health/ready`)).status, 200, 'migrated at start')
    t.match(
      output(),
      /PIPEDRIVE_API_TOKEN is not set: using the built-in Pipedrive sandbox/,
      'says it uses the sandbox'
    )
    const event = contactEvent()
    const body = JSON.stringify(event)
    const accepted = await fetch(`${base}/webhooks/crm`, {
      method: 'POST',
      headers: signedHeaders(body),
      body
    })
    t.equal(accepted.status, 202)
    const auth = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }
    const synced = await eventually(async () => {
      const response = await fetch(`${base}/api/contacts/${event.data.id}/sync-status`, { headers: auth })
      const status = (await response.json()) as { state: string }
      return status.state === 'synced' ? status : undefined
    }, 30_000)
    t.match(synced, { pipedrivePersonId: /^\d+$/ }, 'synced against the sandbox')
    t.equal(await server.stop(), 0, 'exit code 0 on SIGTERM')
    t.notMatch(output(), TEST_SECRET.slice(6), 'the secret never reaches the log')
    t.notMatch(output(), 'webhook-signature', 'signatures are not logged')
    t.notMatch(output(), 'sandbox-token', 'no Pipedrive token in the log')
    t.notMatch(output(), TEST_OPERATOR_KEY, 'no operator key in the log')
  }
)
