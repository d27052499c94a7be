import { randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { type Child, spawnTs, waitForOutput } from './processes.js'

export const HARNESS_SECRET = 'whsec_aGFybmVzcy1zZWNyZXQtZm9yLWJsYWNrLWJveC10ZXN0cw=='
export const HARNESS_OPERATOR_KEY = 'harness-operator-key-0123456789'

export interface ServiceProcess {
  url: string
  process: Child
  stop(): Promise<number | null>
  kill(): Promise<number | null>
}

/** What a service started by the harness (or a benchmark) runs with, before its own additions. */
export const HARNESS_SERVICE_ENV = {
  PORT: '0',
  HOST: '127.0.0.1',
  WEBHOOK_SECRETS: HARNESS_SECRET,
  OPERATOR_API_KEY: HARNESS_OPERATOR_KEY,
  LOG_LEVEL: 'info'
}

/** `src/server.ts` as production runs it, on loopback; `env` adds to (or overrides) the defaults. */
export async function startServiceProcess(
  env: Record<string, string>,
  timeoutMs = 60_000
): Promise<ServiceProcess> {
  const child = spawnTs('src/server.ts', { ...HARNESS_SERVICE_ENV, ...env })
  const [, url] = await waitForOutput(child, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/, timeoutMs)
  return { url: url as string, process: child, stop: () => child.stop(), kill: () => child.kill() }
}

/** A fresh PostgreSQL database for one run, dropped by the returned function. */
export async function createDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `harness_${randomUUID().replaceAll('-', '').slice(0, 12)}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const again = postgres(adminUrl, { max: 1, onnotice: () => {} })
      await again.unsafe(`drop database if exists ${name} with (force)`)
      await again.end()
    }
  }
}
