import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../harness/processes.js'
import { createDatabase } from '../harness/service-process.js'
import { productionNodeOptions } from './production-runtime.js'
import { peakRssMb } from './rss.js'
import { percentile } from './stats.js'

/**
 * Goal 5 (start): process spawn to the first `/health` 200, polled every 10 ms. `compiled` is
 * what production runs (`node dist/server.js`, built by `npm run build`); `tsx` is `npm start`.
 * On PostgreSQL the database is migrated by a first start that is not counted (the counted ones
 * find nothing to apply, as after a deploy's release step); PGlite is measured on a fresh data
 * directory (first start, creating and migrating it) and on a restart.
 */
const ROOT = new URL('..', import.meta.url).pathname
const POLL_MS = 10
const START_TIMEOUT_MS = 60_000
const RUNS = 3

export type Runtime = 'compiled' | 'tsx'

export interface StartResult {
  medianMs: number
  runsMs: number[]
  /** Peak RSS by the time /health answered (median run), MB. */
  rssAtHealthMb: number
}

const argsFor = (runtime: Runtime) =>
  runtime === 'compiled' ? [join(ROOT, 'dist/server.js')] : ['--import', 'tsx', join(ROOT, 'src/server.ts')]

async function startOnce(runtime: Runtime, env: Record<string, string>) {
  const port = await freePort()
  const started = performance.now()
  const child: ChildProcess = spawn(process.execPath, argsFor(runtime), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...(runtime === 'compiled' ? { NODE_OPTIONS: productionNodeOptions() } : {}),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      WEBHOOK_SECRETS: 'whsec_YmVuY2htYXJrLXNlY3JldC1mb3ItaW50YWtlLTAwMDE=',
      OPERATOR_API_KEY: 'bench-operator-key-0123456789',
      PIPEDRIVE_API_TOKEN: 'bench',
      // Nothing listens there: starting must not need Pipedrive.
      PIPEDRIVE_BASE_URL: 'http://127.0.0.1:9',
      ...env
    },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited during start: ${stderr.slice(-2000)}`)
      if (performance.now() - started > START_TIMEOUT_MS) throw new Error('service did not start')
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (response) => response.status === 200,
        () => false
      )
      if (ok) return { ms: performance.now() - started, rssMb: peakRssMb(child.pid) }
      await sleep(POLL_MS)
    }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

async function startRuns(runtime: Runtime, env: Record<string, string>, runs = RUNS): Promise<StartResult> {
  const results = []
  for (let i = 0; i < runs; i++) results.push(await startOnce(runtime, env))
  const sorted = [...results].sort((a, b) => a.ms - b.ms)
  const median = sorted[Math.floor(sorted.length / 2)] as { ms: number; rssMb: number }
  return {
    medianMs: percentile(
      results.map((result) => result.ms),
      50
    ),
    runsMs: results.map((result) => Math.round(result.ms)),
    rssAtHealthMb: median.rssMb
  }
}

export async function measureStart(adminUrl: string) {
  const database = await createDatabase(adminUrl)
  try {
    // Migrates the fresh database: what a release step (or the first instance) does once.
    await startOnce('compiled', { DATABASE_URL: database.url })
    const postgres = {
      compiled: await startRuns('compiled', { DATABASE_URL: database.url }),
      tsx: await startRuns('tsx', { DATABASE_URL: database.url })
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-pglite-'))
    try {
      const pglite = {
        fresh: await startRuns('compiled', { DATA_DIR: dataDir }, 1),
        restart: await startRuns('compiled', { DATA_DIR: dataDir })
      }
      return { postgres, pglite }
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  } finally {
    await database.drop()
  }
}
