import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { eventually } from '../harness/eventually.js'
import { type BuildAppOptions, buildApp } from '../src/app.js'
import { type Config, loadConfig } from '../src/config.js'
import { type DatabaseHandle, type DatabaseOptions, openDatabase } from '../src/db/database.js'
import { type Sandbox, startSandbox } from '../src/sandbox/server.js'
import type { ActivitySyncStatusT, ContactSyncStatusT } from '../src/schemas/operator-api.js'
import { sign } from '../src/webhooks/verify.js'

export { eventually }

interface Tap {
  teardown(fn: () => unknown): void
  name: string
}

export interface WebhookVector {
  description: string
  secret?: string
  secrets?: string[]
  id: string
  timestamp: number
  body: string
  signature: string
  valid: boolean
}

export const vectors = (
  JSON.parse(readFileSync(new URL('./fixtures/webhook-vectors.json', import.meta.url), 'utf8')) as {
    vectors: WebhookVector[]
  }
).vectors

export const TEST_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
export const ROTATED_SECRET = 'whsec_cm90YXRpb24tc2VjcmV0LWZvci10ZXN0cy0wMDAwMDE='
export const TEST_OPERATOR_KEY = 'test-operator-key-0123456789'

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    WEBHOOK_SECRETS: `${TEST_SECRET},${ROTATED_SECRET}`,
    OPERATOR_API_KEY: TEST_OPERATOR_KEY,
    PIPEDRIVE_API_TOKEN: 'test-token',
    PIPEDRIVE_BASE_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
    ...overrides
  })
}

/**
 * One database per test file: its own PostgreSQL schema when DATABASE_URL is set (dropped at the
 * end, so a shared database is safe), else an in-memory PGlite (slow to start: share it).
 */
export async function testDatabase(
  t: Tap,
  options: Pick<DatabaseOptions, 'maxConnections'> = {}
): Promise<DatabaseHandle> {
  const url = process.env.DATABASE_URL
  const schemaName = url
    ? `t_${createHash('sha256').update(t.name).digest('hex').slice(0, 8)}_${randomUUID().slice(0, 8)}`
    : undefined
  const database = await openDatabase({ url, schemaName, ...options })
  t.teardown(async () => {
    if (schemaName)
      await database.db.execute(sql`drop schema if exists ${sql.identifier(schemaName)} cascade`)
    await database.close()
  })
  await database.migrate()
  return database
}

export async function build(
  t: Tap,
  database: DatabaseHandle,
  options: Partial<BuildAppOptions> = {}
): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(), database, ownsDatabase: false, ...options })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/** A fresh id for data a test owns. */
export function uid(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 12)}`
}

export interface SignedRequest {
  id?: string
  timestamp?: number
  secret?: string
  contentType?: string
}

export function signedHeaders(body: string, options: SignedRequest = {}): Record<string, string> {
  const id = options.id ?? uid('msg')
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000)
  const key = Buffer.from((options.secret ?? TEST_SECRET).slice('whsec_'.length), 'base64')
  return {
    'content-type': options.contentType ?? 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${sign(key, id, timestamp, body)}`
  }
}

export function postWebhook(app: FastifyInstance, payload: unknown, options: SignedRequest = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload)
  return app.inject({ method: 'POST', url: '/webhooks/crm', headers: signedHeaders(body, options), body })
}

export function contactEvent(data: Record<string, unknown> = {}) {
  const now = new Date().toISOString()
  return {
    type: 'contact.updated',
    timestamp: now,
    data: {
      id: uid('c'),
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      warmnessScore: 4,
      organization: { id: uid('o'), name: 'Analytical Engines Ltd', industry: 'Computing', country: 'GB' },
      owner: { id: 'u_1', email: 'owner@crm.example' },
      updatedAt: now,
      ...data
    }
  }
}

export function activityEvent(data: Record<string, unknown> = {}) {
  const now = new Date().toISOString()
  return {
    type: 'activity.created',
    timestamp: now,
    data: {
      id: uid('a'),
      contactId: uid('c'),
      type: 'CALL',
      subject: 'Intro call',
      note: 'Talked about engines',
      dueAt: '2026-11-26T15:30:00+01:00',
      durationMinutes: 30,
      done: false,
      owner: null,
      createdAt: now,
      ...data
    }
  }
}

/** A built-in Pipedrive sandbox for one test file, closed at the end. */
export async function testSandbox(
  t: Tap,
  options: Parameters<typeof startSandbox>[0] = {}
): Promise<Sandbox> {
  const sandbox = await startSandbox({ port: 0, ...options })
  t.teardown(() => sandbox.close())
  return sandbox
}

/** Configuration pointing at a sandbox, with short delays so retries do not slow the tests. */
export function sandboxConfig(sandbox: Sandbox, overrides: Record<string, string> = {}): Config {
  return testConfig({
    PIPEDRIVE_BASE_URL: sandbox.url,
    PIPEDRIVE_API_TOKEN: sandbox.token,
    SYNC_RETRY_BASE_MS: '5',
    SYNC_BACKOFF_BASE_MS: '50',
    SYNC_BACKOFF_MAX_MS: '200',
    OPERATOR_RATE_LIMIT: '10000',
    ...overrides
  })
}

const operatorHeaders = { authorization: `Bearer ${TEST_OPERATOR_KEY}` }

export async function contactStatus(app: FastifyInstance, id: string): Promise<ContactSyncStatusT> {
  return (await app.inject({ url: `/api/contacts/${id}/sync-status`, headers: operatorHeaders })).json()
}

export async function activityStatus(app: FastifyInstance, id: string): Promise<ActivitySyncStatusT> {
  return (await app.inject({ url: `/api/activities/${id}/sync-status`, headers: operatorHeaders })).json()
}

/** Polls a status until its state is one of `states`. */
export function waitForState<T extends { state: string }>(
  read: () => Promise<T>,
  states: readonly string[],
  timeoutMs = 20_000
): Promise<T> {
  return eventually(async () => {
    const status = await read()
    return states.includes(status.state) ? status : undefined
  }, timeoutMs)
}

/** Creates a record in the sandbox through its own API, as another Pipedrive user would. */
export async function seedSandbox<T>(sandbox: Sandbox, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-token': sandbox.token },
    body: JSON.stringify(body)
  })
  return ((await response.json()) as { data: T }).data
}
