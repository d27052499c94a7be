import { INTAKE_CONNECTIONS, measureIntake } from './intake-measure.js'

/**
 * `npm run bench:intake`: the service's intake against a minimal durable receiver (HMAC + one
 * INSERT), same load, same run, same PostgreSQL. Goal: ≥ 0.7× its throughput, p99 ≤ 50 ms.
 */
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10)

const { minimal, service, ratio, roundRatios } = await measureIntake(DATABASE_URL, DURATION_SECONDS)
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
console.log(
  `intake: ${INTAKE_CONNECTIONS} connections, ${DURATION_SECONDS} s each in alternating rounds, PostgreSQL`
)
for (const row of rows)
  console.log(
    row.map((cell) => String(typeof cell === 'number' ? Math.round(cell) : cell).padEnd(28)).join('')
  )
const ratioMet = ratio >= 0.7
const p99Met = service.p99Ms <= 50
console.log(
  `throughput ratio: ${ratio.toFixed(2)}× (goal ≥ 0.70×: ${ratioMet ? 'met' : 'NOT met'}); rounds ${roundRatios.map((r) => r.toFixed(2)).join(', ')}`
)
console.log(`service p99: ${service.p99Ms} ms (goal ≤ 50 ms: ${p99Met ? 'met' : 'NOT met'})`)
