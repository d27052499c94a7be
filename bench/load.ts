import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'
import { decodeWebhookSecret } from '../src/config.js'
import { sign } from '../src/webhooks/verify.js'
import { BENCH_BUILD_DIR, buildBenchServers } from './build.js'
import { productionNodeOptions } from './production-runtime.js'

export const BENCH_SECRET = 'whsec_YmVuY2htYXJrLXNlY3JldC1mb3ItaW50YWtlLTAwMDE='
const key = decodeWebhookSecret(BENCH_SECRET) as Buffer

export interface Server {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

export type BenchServer = 'minimal' | 'service' | 'intake-only'

/**
 * Starts a bench server (bench/servers, compiled) in its own process: the load generator must not
 * share its event loop.
 */
export async function startServer(server: BenchServer, env: Record<string, string>): Promise<Server> {
  await buildBenchServers()
  const child = spawn(process.execPath, [`${BENCH_BUILD_DIR}/bench/servers/${server}.js`], {
    env: {
      ...process.env,
      WEBHOOK_SECRETS: BENCH_SECRET,
      LOG_LEVEL: 'warn',
      // The service as the image runs it; the yardstick with Node's defaults.
      ...(server === 'minimal' ? {} : { NODE_OPTIONS: productionNodeOptions() }),
      ...env
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise<string>((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (chunk) => {
      output += chunk
      const match = /READY (\S+)/.exec(output)
      if (match?.[1]) resolve(match[1])
    })
    child.on('exit', (code) => reject(new Error(`${server} exited with ${code}`)))
  })
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
  }
}

/** A signed contact.updated with a unique webhook id (and contact) per request. */
export function signedContactRequest(request: Record<string, unknown>): Record<string, unknown> {
  const id = `msg_${randomUUID()}`
  const now = new Date().toISOString()
  const body = JSON.stringify({
    type: 'contact.updated',
    timestamp: now,
    data: {
      id: `c_${randomUUID()}`,
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      warmnessScore: 3,
      organization: { id: 'o_bench', name: 'Analytical Engines Ltd', industry: 'Computing', country: 'GB' },
      owner: { id: 'u_1', email: 'owner@crm.example' },
      updatedAt: now
    }
  })
  const timestamp = Math.floor(Date.now() / 1000)
  return {
    ...request,
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${sign(key, id, timestamp, body)}`
    }
  }
}

export interface LoadResult {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  errors: number
}

/** One run of load; its raw result can be pooled with others' (`pooled`). */
export async function load(
  url: string,
  { connections, durationSeconds }: { connections: number; durationSeconds: number }
): Promise<RawLoad> {
  const raw = await autocannon({
    url: `${url}/webhooks/crm`,
    connections,
    duration: durationSeconds,
    skipAggregateResult: true,
    requests: [{ method: 'POST', path: '/webhooks/crm', setupRequest: signedContactRequest as never }]
  } as autocannon.Options)
  return { url, connections, raw }
}

export interface RawLoad {
  url: string
  connections: number
  raw: autocannon.Result
}

/** Fields of an un-aggregated run (`skipAggregateResult`). */
interface RawCounts {
  totalCompletedRequests: number
  /** Seconds. */
  duration: number
}

// In autocannon's API (README: autocannon.aggregateResult), not in its type definitions.
const { aggregateResult } = autocannon as unknown as {
  aggregateResult(results: autocannon.Result[], opts: { url: string; connections: number }): autocannon.Result
}

/** Runs of one server taken together: throughput and latency percentiles over all their requests. */
export function pooled(runs: RawLoad[]): LoadResult {
  const first = runs[0]
  if (!first) throw new Error('no runs to pool')
  const result = aggregateResult(
    runs.map((run) => run.raw),
    { url: first.url, connections: first.connections }
  )
  // Its throughput needs per-second samples it does not pool: completed requests over run time.
  const completed = runs.reduce(
    (sum, run) => sum + (run.raw as unknown as RawCounts).totalCompletedRequests,
    0
  )
  const seconds = runs.reduce((sum, run) => sum + (run.raw as unknown as RawCounts).duration, 0)
  return {
    requestsPerSecond: completed / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors
  }
}
