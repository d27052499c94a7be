import { eventually } from '../harness/eventually.js'
import { type FakeCrm, startFakeCrm } from '../harness/fake-crm.js'
import { freePort } from '../harness/processes.js'
import { type SandboxProcess, startSandboxProcess } from '../harness/sandbox-process.js'
import { createDatabase, type ServiceProcess, startServiceProcess } from '../harness/service-process.js'
import { type Audit, auditSandbox } from './audit.js'
import { DbProbe } from './db-probe.js'
import type { PlannedContact } from './events.js'
import type { Suite } from './suite.js'

/** Generous on both sides: a scenario that is not about rate limits must never meet one. */
export const GENEROUS_BUDGET = { limit: 1000, windowMs: 1000 }

/**
 * The service's settings for the suite: time compressed (short backoffs, a 3 s lease for the kill
 * scenario). SYNC_MAX_ATTEMPTS is raised because compressed backoffs burn rounds ~1,000× faster
 * than production's (30 s doubling to 1 h): a 15 s outage here is ~8 rounds, not an hour's two.
 */
function serviceEnv(suite: Suite, databaseUrl: string, sandbox: SandboxProcess, callbacks: FakeCrm) {
  return {
    DATABASE_URL: databaseUrl,
    PIPEDRIVE_API_TOKEN: sandbox.token,
    PIPEDRIVE_BASE_URL: sandbox.url,
    PIPEDRIVE_RATE_LIMIT: String(GENEROUS_BUDGET.limit),
    PIPEDRIVE_RATE_WINDOW_MS: String(GENEROUS_BUDGET.windowMs),
    PIPEDRIVE_SEARCH_RATE_LIMIT: String(GENEROUS_BUDGET.limit),
    PIPEDRIVE_SEARCH_RATE_WINDOW_MS: String(GENEROUS_BUDGET.windowMs),
    SYNC_RETRY_BASE_MS: '50',
    SYNC_BACKOFF_BASE_MS: '500',
    SYNC_BACKOFF_MAX_MS: '2000',
    SYNC_MAX_ATTEMPTS: '50',
    JOB_LEASE_MS: '3000',
    // The suite polls the operator API; its per-key budget is not under test here.
    OPERATOR_RATE_LIMIT: '100000',
    CRM_CALLBACK_URL: callbacks.url,
    CRM_CALLBACK_SECRET: suite.callbackSecret,
    // debug logs every accepted event: the widest log surface for the secrets audit.
    LOG_LEVEL: 'debug'
  }
}

/** One scenario's world: its own database, sandbox process, callback receiver and services. */
export class Stack {
  readonly services: ServiceProcess[] = []
  #started = 0

  private constructor(
    readonly suite: Suite,
    readonly name: string,
    readonly sandbox: SandboxProcess,
    readonly callbacks: FakeCrm,
    readonly probe: DbProbe,
    readonly env: Record<string, string>,
    readonly dropDatabase: () => Promise<void>
  ) {}

  static async start(suite: Suite, name: string, instances = 1): Promise<Stack> {
    const database = await createDatabase(suite.adminUrl)
    const sandbox = await startSandboxProcess({ port: await freePort(), rateLimit: GENEROUS_BUDGET })
    for (const user of (await sandbox.state()).users)
      suite.secrets.set(`sandbox token of ${user.email}`, user.token)
    const callbacks = await startFakeCrm(suite.callbackSecret)
    const env = serviceEnv(suite, database.url, sandbox, callbacks)
    const stack = new Stack(suite, name, sandbox, callbacks, new DbProbe(database.url), env, database.drop)
    try {
      for (let i = 0; i < instances; i++) await stack.startService()
    } catch (error) {
      // A service that cannot start must not leave the sandbox running or the database behind.
      await stack.close()
      throw error
    }
    return stack
  }

  /** Starts one more service process on this stack's database (a restart, or a second instance). */
  async startService(): Promise<ServiceProcess> {
    const service = await startServiceProcess(this.env)
    this.suite.addServiceLog(`${this.name} #${++this.#started}`, service.process)
    this.services.push(service)
    return service
  }

  /** The newest service started: the live one after a restart. */
  get service(): ServiceProcess {
    const service = this.services.at(-1)
    if (!service) throw new Error('no service started')
    return service
  }

  /**
   * Waits until every job has finished and the sandbox holds every planned record (or the time
   * is up), then audits. A timeout is not thrown: what is missing shows up as lost.
   */
  async settle(plan: PlannedContact[], timeoutMs: number): Promise<Audit & { settled: boolean }> {
    let audit = auditSandbox(await this.sandbox.state(), plan)
    const settled = await eventually(
      async () => {
        audit = auditSandbox(await this.sandbox.state(), plan)
        return audit.lost === 0 && (await this.probe.unfinishedJobs()) === 0
      },
      timeoutMs,
      { what: 'every job finished and every record made', intervalMs: 250 }
    ).then(
      () => true,
      () => false
    )
    return { ...auditSandbox(await this.sandbox.state(), plan), settled }
  }

  async close(): Promise<void> {
    for (const service of this.services) await service.stop()
    await this.probe.close()
    await this.callbacks.close()
    // The service's own callback signatures must not be in its logs either (scenario g).
    for (const signature of this.callbacks.signatures) this.suite.signatures.add(signature)
    await this.sandbox.stop()
    await this.dropDatabase()
  }
}
