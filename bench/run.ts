import { cpus, loadavg, totalmem } from 'node:os'
import { performance } from 'node:perf_hooks'
import postgres from 'postgres'
import { buildService } from './build.js'
import { CACHE_FILL_CALLS, measureDrain } from './drain.js'
import { measureIntake } from './intake-measure.js'
import { measureLatency, SANDBOX_LATENCY_MS } from './latency.js'
import { atLeast, atMost, type GoalResult, info, printTable, writeResults } from './results.js'
import { measureStart } from './start-time.js'

/**
 * `npm run bench`: every benchmark against real PostgreSQL (DATABASE_URL, default the
 * local `test` database; each part works in its own schema or database and drops it) and the
 * sandbox over loopback. Prints one table and writes bench/results.json.
 */
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const INTAKE_SECONDS = 10
const MS_PER_S = 1_000
const DRAIN_TOLERANCE = 1.1

const began = performance.now()
const loadBefore = loadavg()
// Production runs the compiled service: every measurement uses dist/ (or .bench-build/).
buildService()

const results: GoalResult[] = []

console.log('1/5 intake …')
const intake = await measureIntake(DATABASE_URL, INTAKE_SECONDS)
results.push(
  atLeast(
    'intake throughput vs minimal receiver',
    intake.ratio,
    '×',
    0.7,
    `${Math.round(intake.service.requestsPerSecond)} vs ${Math.round(intake.minimal.requestsPerSecond)} req/s in ${intake.roundRatios.length} alternating rounds (${intake.roundRatios.map((r) => r.toFixed(2)).join(', ')}); minimal p99 ${intake.minimal.p99Ms} ms; non-2xx ${intake.service.non2xx}`
  ),
  atMost('intake p99', intake.service.p99Ms, 'ms', 50, `p50 ${intake.service.p50Ms} ms`)
)

console.log(`2/5 end-to-end latency (sandbox ${SANDBOX_LATENCY_MS} ms per call) …`)
const latency = await measureLatency(DATABASE_URL)
const phases = (s: typeof latency.lead) =>
  `median: ${Math.round(s.beforeFirstCallP50Ms)} ms to the first call, ${Math.round(s.betweenCallsP50Ms)} ms between calls, ${Math.round(s.afterLastCallP50Ms)} ms after the last`
results.push(
  atMost(
    'warm lead: webhook → person id stored, p99',
    latency.lead.p99Ms,
    'ms',
    5_000,
    `p50 ${Math.round(latency.lead.p50Ms)} ms, ${latency.lead.count} leads (half new org, half known)`
  ),
  atMost(
    'activity: webhook → activity id stored, p99',
    latency.activity.p99Ms,
    'ms',
    3_000,
    `p50 ${Math.round(latency.activity.p50Ms)} ms, ${latency.activity.count} activities`
  ),
  atMost(
    'warm lead overhead above Pipedrive time, p50',
    latency.lead.overheadP50Ms,
    'ms',
    15,
    phases(latency.lead)
  ),
  info(
    'warm lead overhead, p50: new org (4 calls) / known org (2 calls)',
    latency.leadNewOrg.overheadP50Ms,
    'ms',
    `known org ${Math.round(latency.leadKnownOrg.overheadP50Ms * 10) / 10} ms`
  ),
  atMost(
    'activity overhead above Pipedrive time, p50',
    latency.activity.overheadP50Ms,
    'ms',
    15,
    phases(latency.activity)
  )
)

console.log('3/5 calls per record (from the same run) …')
results.push(
  atMost('calls per warm lead, new org (max)', latency.calls.newOrgMax, 'calls', 4),
  atMost('calls per warm lead, known org (max)', latency.calls.knownOrgMax, 'calls', 2),
  atMost(
    'calls per activity (max)',
    latency.calls.activityMax,
    'calls',
    1,
    `${latency.calls.tooMany} answers 429 during the latency run`
  ),
  atMost(
    'calls serving no record, latency run (caches warm)',
    latency.calls.unattributed,
    'calls',
    0,
    latency.calls.unattributedCalls
  )
)

console.log('4/5 backlog drain (1,000 events, 100 calls per 1 s) …')
const drain = await measureDrain(DATABASE_URL)
results.push(
  atMost(
    'backlog drain, 1,000 mixed events',
    drain.drainMs / MS_PER_S,
    's',
    Math.round(((drain.theoreticalMs * DRAIN_TOLERANCE) / MS_PER_S) * 100) / 100,
    `theoretical minimum ${drain.theoreticalMs / MS_PER_S} s for ${drain.expectedCalls} calls (${drain.calls} sent); ${(drain.drainMs / drain.theoreticalMs).toFixed(2)}× the minimum; ${(drain.drainFromSpawnMs / MS_PER_S).toFixed(1)} s from process spawn; dead jobs ${drain.deadJobs}`
  ),
  atMost('429 answers during the drain', drain.tooMany, 'answers', 0),
  atMost(
    'calls serving no record during the drain',
    drain.unattributed,
    'calls',
    CACHE_FILL_CALLS,
    `${drain.unattributedCalls}; most calls for one lead / activity: ${drain.leadMaxCalls} / ${drain.activityMaxCalls}`
  )
)

console.log('5/5 memory and start …')
const start = await measureStart(DATABASE_URL)
results.push(
  atMost(
    'peak RSS during intake (1)',
    intake.servicePeakRssMb,
    'MB',
    150,
    'bench/servers/service.ts, compiled (node, no TypeScript loader)'
  ),
  atMost('peak RSS during backlog drain (4)', drain.servicePeakRssMb, 'MB', 150, 'node dist/server.js'),
  atMost(
    'start → /health 200, PostgreSQL',
    start.postgres.compiled.medianMs,
    'ms',
    2_000,
    `node dist/server.js, median of ${start.postgres.compiled.runsMs.join(', ')} ms; RSS at /health ${Math.round(start.postgres.compiled.rssAtHealthMb)} MB`
  ),
  info(
    'start → /health 200, PostgreSQL, npm start (tsx)',
    start.postgres.tsx.medianMs,
    'ms',
    `runs ${start.postgres.tsx.runsMs.join(', ')} ms; RSS at /health ${Math.round(start.postgres.tsx.rssAtHealthMb)} MB`
  ),
  info(
    'start → /health 200, PGlite, new data dir',
    start.pglite.fresh.medianMs,
    'ms',
    `creates and migrates the database; RSS at /health ${Math.round(start.pglite.fresh.rssAtHealthMb)} MB`
  ),
  info(
    'start → /health 200, PGlite, restart',
    start.pglite.restart.medianMs,
    'ms',
    `runs ${start.pglite.restart.runsMs.join(', ')} ms; RSS at /health ${Math.round(start.pglite.restart.rssAtHealthMb)} MB`
  )
)

const totalS = (performance.now() - began) / MS_PER_S
const loadAfter = loadavg()
const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} })
const [{ version } = { version: 'unknown' }] = await sql<{ version: string }[]>`select version()`
await sql.end()
const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGb: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  postgres: version.split(',')[0],
  loadAverage: { before: loadBefore.map((l) => l.toFixed(2)), after: loadAfter.map((l) => l.toFixed(2)) }
}
console.log()
printTable(results)
console.log()
console.log(
  `machine: ${machine.cpus}, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.postgres}; load average ${machine.loadAverage.before.join(' ')} → ${machine.loadAverage.after.join(' ')}; ${totalS.toFixed(0)} s in all`
)
writeResults(new URL('./results.json', import.meta.url), results, {
  date: new Date().toISOString(),
  machine,
  durationSeconds: Math.round(totalS)
})
const missed = results.filter((result) => !result.met)
console.log(
  missed.length === 0
    ? 'every goal met'
    : `${missed.length} goal(s) not met: ${missed.map((m) => m.name).join('; ')}`
)
