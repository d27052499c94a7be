import { load, startServer } from './load.js'

/**
 * `npm run bench:intake`: the service's intake against a minimal durable receiver (HMAC + one
 * INSERT), same load, same run, same PostgreSQL. Goal: ≥ 0.7× its throughput, p99 ≤ 50 ms.
 */
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const CONNECTIONS = 50
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const WARMUP_SECONDS = 2

async function measure(script: string) {
  const server = await startServer(script, {
    DATABASE_URL,
    PIPEDRIVE_API_TOKEN: 'bench',
    PIPEDRIVE_BASE_URL: 'http://127.0.0.1:9'
  })
  try {
    await load(server.url, { connections: CONNECTIONS, durationSeconds: WARMUP_SECONDS })
    return await load(server.url, { connections: CONNECTIONS, durationSeconds: DURATION_SECONDS })
  } finally {
    await server.stop()
  }
}

const minimal = await measure('./servers/minimal.ts')
const service = await measure('./servers/service.ts')
const ratio = service.requestsPerSecond / minimal.requestsPerSecond
const rows = [
  ['receiver', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
  [
    'minimal (HMAC + 1 INSERT)',
    minimal.requestsPerSecond,
    minimal.p50Ms,
    minimal.p99Ms,
    minimal.non2xx,
    minimal.errors
  ],
  [
    'pipedrive-sync intake',
    service.requestsPerSecond,
    service.p50Ms,
    service.p99Ms,
    service.non2xx,
    service.errors
  ]
]
console.log(`intake: ${CONNECTIONS} connections × ${DURATION_SECONDS} s, PostgreSQL`)
for (const row of rows)
  console.log(
    row.map((cell) => String(typeof cell === 'number' ? Math.round(cell) : cell).padEnd(28)).join('')
  )
const ratioMet = ratio >= 0.7
const p99Met = service.p99Ms <= 50
console.log(`throughput ratio: ${ratio.toFixed(2)}× (goal ≥ 0.70×: ${ratioMet ? 'met' : 'NOT met'})`)
console.log(`service p99: ${service.p99Ms} ms (goal ≤ 50 ms: ${p99Met ? 'met' : 'NOT met'})`)
