/**
 * `npx tsx bench/shared-limiter.ts` (needs DATABASE_URL): bench/limiter.ts with two "instances" —
 * two shared budgets, each on its own connection pool to one PostgreSQL schema, each with its
 * own Pipedrive connection — splitting 1,000 calls at 100 per 1,000 ms against the sandbox.
 * Theory: ~10 s whatever the number of instances; a 429 means the instances together let a
 * request too many into the sandbox's window: there must be none.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { sql } from 'drizzle-orm'
import { openDatabase } from '../src/db/database.js'
import { getCurrentUser } from '../src/pipedrive/api.js'
import { createPipedriveConnection } from '../src/pipedrive/connection.js'
import { SharedRateBudget } from '../src/rate-budget/shared.js'
import { startSandbox } from '../src/sandbox/server.js'

const CALLS = 1_000
const INSTANCES = 2
const LIMIT = 100
const WINDOW_MS = 1_000
const THEORETICAL_MS = (CALLS / LIMIT) * WINDOW_MS

const url = process.env.DATABASE_URL
if (!url) throw new Error('DATABASE_URL is required: the budget is shared through PostgreSQL')
const schemaName = `bench_${randomUUID().slice(0, 8)}`
const budget = { limit: LIMIT, windowMs: WINDOW_MS }
const sandbox = await startSandbox({ rateLimit: { general: budget, search: budget } })

const first = await openDatabase({ url, schemaName })
await first.migrate()
const handles = [
  first,
  ...(await Promise.all(Array.from({ length: INSTANCES - 1 }, () => openDatabase({ url, schemaName }))))
]
const connections = handles.map((handle) =>
  createPipedriveConnection(
    {
      PIPEDRIVE_BASE_URL: sandbox.url,
      PIPEDRIVE_RATE_LIMIT: LIMIT,
      PIPEDRIVE_RATE_WINDOW_MS: WINDOW_MS,
      PIPEDRIVE_SEARCH_RATE_LIMIT: LIMIT,
      PIPEDRIVE_SEARCH_RATE_WINDOW_MS: WINDOW_MS,
      SYNC_RETRY_BASE_MS: 100
    },
    { budget: new SharedRateBudget(handle.db, { general: budget, search: budget }) }
  )
)
const clients = connections.map((connection) => connection.forToken(sandbox.token).client)

const start = performance.now()
const waits: number[] = []
const results = await Promise.allSettled(
  Array.from({ length: CALLS }, (_, i) =>
    getCurrentUser(clients[i % INSTANCES] as (typeof clients)[number], {
      onAttempt: (attempt) => waits.push(attempt.waitedMs)
    })
  )
)
const elapsedMs = performance.now() - start

const tooMany = sandbox.requests.filter((request) => request.status === 429).length
const failed = results.filter((result) => result.status === 'rejected').length
const deviation = ((elapsedMs - THEORETICAL_MS) / THEORETICAL_MS) * 100
console.log(
  `calls:             ${CALLS} over ${INSTANCES} instances (budget ${LIMIT} per ${WINDOW_MS} ms, shared)`
)
console.log(`requests received: ${sandbox.requests.length}`)
console.log(
  `total time:        ${(elapsedMs / 1000).toFixed(2)} s (theoretical ~${THEORETICAL_MS / 1000} s, ${deviation >= 0 ? '+' : ''}${deviation.toFixed(1)} %)`
)
console.log(`429 answers:       ${tooMany}`)
console.log(`failed calls:      ${failed}`)
console.log(`longest wait:      ${(Math.max(0, ...waits) / 1000).toFixed(2)} s`)

await Promise.all(connections.map((connection) => connection.close()))
await first.db.execute(sql`drop schema if exists ${sql.identifier(schemaName)} cascade`)
await Promise.all(handles.map((handle) => handle.close()))
await sandbox.close()
