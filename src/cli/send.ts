import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { DEVELOPMENT_WEBHOOK_SECRET, decodeWebhookSecret } from '../config.js'
import { sign } from '../webhooks/verify.js'

/**
 * `npm run send -- <type> <file.json>`: wraps the file's `data` in an event envelope, signs it with
 * the first of WEBHOOK_SECRETS (or the development secret) and posts it to the running service.
 */
const USAGE = 'usage: npm run send -- <contact.updated|activity.created|…> <file.json>'
const [type, file] = process.argv.slice(2)
if (!type || !file) {
  process.stderr.write(`${USAGE}\n`)
  process.exit(2)
}

const secret = (process.env.WEBHOOK_SECRETS ?? DEVELOPMENT_WEBHOOK_SECRET).split(',')[0]?.trim() ?? ''
const key = decodeWebhookSecret(secret)
if (!key) {
  process.stderr.write('WEBHOOK_SECRETS: the first entry is not of the form whsec_<base64>\n')
  process.exit(2)
}
const baseUrl = process.env.SERVICE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`

let data: Record<string, unknown>
try {
  data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
} catch (error) {
  process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`)
  process.exit(2)
}
const now = new Date().toISOString()
// Examples leave the event times out so that every send is the newest version.
if (type === 'contact.updated') data.updatedAt ??= now
if (type === 'activity.created' || type === 'activity.updated') data.createdAt ??= now
if (type === 'activity.updated') data.updatedAt ??= now
if (type === 'activity.deleted' || type === 'contact.deleted') data.deletedAt ??= now

const body = JSON.stringify({ type, timestamp: now, data })
const id = `msg_${randomUUID()}`
const timestamp = Math.floor(Date.now() / 1000)
try {
  const response = await fetch(`${baseUrl}/webhooks/crm`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${sign(key, id, timestamp, body)}`
    },
    body
  })
  process.stdout.write(`${response.status} ${await response.text()}\n`)
  process.exit(response.ok ? 0 : 1)
} catch (error) {
  process.stderr.write(`cannot reach ${baseUrl}: ${(error as Error).message}\n`)
  process.exit(1)
}
