/**
 * `npm run bench:limiter`: 1,000 calls through the rate limiter against the sandbox, with the
 * budget scaled to 100 per 1,000 ms on both sides. Theory: ten windows' worth of calls, ~10 s
 * (the last hundred may start at 9 s, so anything from 9 to 11 s is within 10 %). A 429 means
 * the limiter let a request land inside Pipedrive's window: there must be none.
 */
import { performance } from 'node:perf_hooks'
import { getCurrentUser } from '../src/pipedrive/api.js'
import { createPipedriveConnection } from '../src/pipedrive/connection.js'
import { startSandbox } from '../src/sandbox/server.js'

const CALLS = 1_000
const LIMIT = 100
const WINDOW_MS = 1_000
const THEORETICAL_MS = (CALLS / LIMIT) * WINDOW_MS

const budget = { limit: LIMIT, windowMs: WINDOW_MS }
const sandbox = await startSandbox({ rateLimit: { general: budget, search: budget } })
const connection = createPipedriveConnection({
  PIPEDRIVE_BASE_URL: sandbox.url,
  PIPEDRIVE_RATE_LIMIT: LIMIT,
  PIPEDRIVE_RATE_WINDOW_MS: WINDOW_MS,
  PIPEDRIVE_SEARCH_RATE_LIMIT: LIMIT,
  PIPEDRIVE_SEARCH_RATE_WINDOW_MS: WINDOW_MS,
  SYNC_RETRY_BASE_MS: 100
})
const client = connection.forToken(sandbox.token).client

const start = performance.now()
const results = await Promise.allSettled(Array.from({ length: CALLS }, () => getCurrentUser(client)))
const elapsedMs = performance.now() - start

const tooMany = sandbox.requests.filter((request) => request.status === 429).length
const failed = results.filter((result) => result.status === 'rejected').length
const deviation = ((elapsedMs - THEORETICAL_MS) / THEORETICAL_MS) * 100
console.log(`calls:             ${CALLS} (budget ${LIMIT} per ${WINDOW_MS} ms)`)
console.log(`requests received: ${sandbox.requests.length}`)
console.log(
  `total time:        ${(elapsedMs / 1000).toFixed(2)} s (theoretical ~${THEORETICAL_MS / 1000} s, ${deviation >= 0 ? '+' : ''}${deviation.toFixed(1)} %)`
)
console.log(`429 answers:       ${tooMany}`)
console.log(`failed calls:      ${failed}`)

await connection.close()
await sandbox.close()
