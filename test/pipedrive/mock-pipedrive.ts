import nock from 'nock'
import { MockAgent, type MockPool } from 'undici'
import type { Logger } from '../../src/logger-interface.js'
import { type AttemptInfo, PipedriveClient } from '../../src/pipedrive/client.js'
import type { CallKind, RateBudget, RatePermit } from '../../src/rate-budget/budget.js'

export const ORIGIN = 'https://api.pipedrive.test'
export const TOKEN = 'tok-very-secret-0123456789'

/** A budget that grants at once and records what the client told it. */
export class RecordingBudget implements RateBudget {
  readonly acquired: Array<{ key: string; kind: CallKind }> = []
  readonly released: boolean[] = []
  readonly pauses: number[] = []
  /** What every permit says was left in the budget after its grant. */
  spare = 10

  async acquire(key: string, kind: CallKind): Promise<RatePermit> {
    this.acquired.push({ key, kind })
    return { waitedMs: 0, spare: this.spare, release: (sent) => void this.released.push(sent) }
  }

  pause(_key: string, ms: number): void {
    this.pauses.push(ms)
  }
}

export interface MockSetup {
  agent: MockAgent
  pool: MockPool
  client: PipedriveClient
  budget: RecordingBudget
  /** Delays the retry loop chose (not waited: tests stay fast). */
  delays: number[]
  attempts: AttemptInfo[]
  logs: string[]
}

/** A client on a MockAgent that refuses any request not intercepted (no test reaches the network). */
export function mockPipedrive(
  options: { requestTimeoutMs?: number; maxRateLimitWaitMs?: number } = {}
): MockSetup {
  nock.disableNetConnect()
  const agent = new MockAgent()
  agent.disableNetConnect()
  agent.enableCallHistory()
  const budget = new RecordingBudget()
  const delays: number[] = []
  const attempts: AttemptInfo[] = []
  const logs: string[] = []
  const record = (object: Record<string, unknown>, message?: string) =>
    void logs.push(JSON.stringify({ object, message }))
  const logger: Logger = { debug: record, info: record, warn: record, error: record }
  const client = new PipedriveClient({
    baseUrl: ORIGIN,
    token: TOKEN,
    dispatcher: agent,
    budget,
    logger,
    retry: {
      retries: 3,
      baseMs: 100,
      random: () => 0,
      wait: async (ms) => void delays.push(ms)
    },
    onAttempt: (info) => void attempts.push(info),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.maxRateLimitWaitMs === undefined ? {} : { maxRateLimitWaitMs: options.maxRateLimitWaitMs })
  })
  return { agent, pool: agent.get(ORIGIN), client, budget, delays, attempts, logs }
}

export function ok(data: unknown, additional_data?: unknown) {
  return { success: true, data, ...(additional_data === undefined ? {} : { additional_data }) }
}

export function fail(error: string) {
  return { success: false, error, error_info: 'see the docs', data: null }
}

/** Body of the n-th recorded call, parsed. */
export function sentBody(setup: MockSetup, index: number): unknown {
  const call = setup.agent.getCallHistory()?.calls()[index]
  return call?.body ? JSON.parse(String(call.body)) : undefined
}
