import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { contactEvent, eventually, signedHeaders, TEST_OPERATOR_KEY, TEST_SECRET } from './helper.js'

const SERVER = new URL('../src/server.ts', import.meta.url).pathname

function start(env: Record<string, string>): {
  child: ChildProcess
  output: () => string
  exit: Promise<number | null>
} {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => output, exit }
}

async function listeningPort(output: () => string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output())
    if (match) return Number(match[1])
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('production with missing or malformed values: exit ≠ 0 with one message listing them', async (t) => {
  const { exit, output } = start({ NODE_ENV: 'production', PORT: 'x', LOG_LEVEL: 'silent' })
  const code = await exit
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
    const { child, output, exit } = start(env)
    t.teardown(() => child.kill('SIGKILL'))
    const port = await listeningPort(output)
    const base = `http://127.0.0.1:${port}`
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
    child.kill('SIGTERM')
    t.equal(await exit, 0, 'exit code 0')
    t.notMatch(output(), TEST_SECRET.slice(6), 'the secret never reaches the log')
    t.notMatch(output(), 'webhook-signature', 'signatures are not logged')
  }
)
