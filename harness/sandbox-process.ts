import type { Faults } from '../src/sandbox/faults.js'
import type { LoggedRequest } from '../src/sandbox/request-log.js'
import { type Child, spawnTs, waitForOutput } from './processes.js'

export interface SandboxProcess {
  url: string
  token: string
  process: Child
  setFaults(faults: Faults): Promise<void>
  clearFaults(): Promise<void>
  requests(): Promise<LoggedRequest[]>
  /** The sandbox's whole state (persons, organizations, activities, …). */
  state(): Promise<SandboxState>
  stop(): Promise<number | null>
}

export interface SandboxState {
  /** The company's users with their tokens (a sandbox: nothing here is a real credential). */
  users: Array<{ id: number; email: string; token: string }>
  persons: Array<{
    id: number
    name: string
    emails: Array<{ value: string }>
    label_ids: number[]
    owner_id: number | null
    org_id: number | null
  }>
  organizations: Array<{ id: number; name: string }>
  activities: Array<{
    id: number
    subject: string
    type: string
    due_date: string | null
    due_time: string | null
    person_id: number | null
  }>
}

/** The fake Pipedrive in its own process (`npm run sandbox`), driven through its control API. */
export async function startSandboxProcess(options: {
  port: number
  rateLimit?: { limit: number; windowMs: number; searchLimit?: number; searchWindowMs?: number }
}): Promise<SandboxProcess> {
  const limits = options.rateLimit
  const child = spawnTs('src/sandbox/main.ts', {
    SANDBOX_PORT: String(options.port),
    ...(limits
      ? {
          PIPEDRIVE_RATE_LIMIT: String(limits.limit),
          PIPEDRIVE_RATE_WINDOW_MS: String(limits.windowMs),
          PIPEDRIVE_SEARCH_RATE_LIMIT: String(limits.searchLimit ?? limits.limit),
          PIPEDRIVE_SEARCH_RATE_WINDOW_MS: String(limits.searchWindowMs ?? limits.windowMs)
        }
      : {})
  })
  const [, url, token] = await waitForOutput(child, /listening on (http:\/\/\S+) \(admin token: ([^;]+);/)
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/__sandbox${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    })
    if (!response.ok) throw new Error(`sandbox control ${method} ${path}: ${response.status}`)
    return response.json() as Promise<unknown>
  }
  return {
    url: url as string,
    token: token as string,
    process: child,
    setFaults: async (faults) => void (await control('PUT', '/faults', faults)),
    clearFaults: async () => void (await control('DELETE', '/faults')),
    requests: async () => ((await control('GET', '/requests')) as { requests: LoggedRequest[] }).requests,
    state: async () => (await control('GET', '/state')) as SandboxState,
    stop: () => child.stop()
  }
}
