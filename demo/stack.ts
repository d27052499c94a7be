import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type FakeCrm, startFakeCrm } from '../harness/fake-crm.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/database.js'
import { silentLogger } from '../src/logger-interface.js'
import { maybeStartSandbox } from '../src/sandbox/guard.js'
import type { Sandbox } from '../src/sandbox/server.js'
import { newSecret } from './crm.js'

export interface Stack {
  serviceUrl: string
  sandbox: Sandbox
  crm: FakeCrm
  webhookSecret: string
  operatorKey: string
  dataDir: string
  app: FastifyInstance
  /** Stops everything and deletes the data directory; safe to call more than once. */
  stop(): Promise<void>
}

/**
 * The service as `npm start` wires it (src/server.ts), in this process: configuration from an
 * environment, the built-in sandbox, PGlite in a fresh directory, migrations, the app with its
 * worker and callback delivery, listening on loopback. Only the environment is the demo's own:
 * it is built here rather than read from process.env, so a PIPEDRIVE_API_TOKEN or DATABASE_URL in
 * the caller's shell can never point the demo at a real account or database.
 */
export async function startStack(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pipedrive-sync-demo-'))
  const closers: Array<() => Promise<void>> = [async () => rmSync(dataDir, { recursive: true, force: true })]
  let stopped: Promise<void> | undefined
  const stop = () => {
    // Last started, first stopped: the app (and its worker) before the sandbox and the CRM it calls.
    stopped ??= (async () => {
      for (const close of closers.reverse()) await close().catch(() => {})
    })()
    return stopped
  }

  try {
    const webhookSecret = newSecret()
    const callbackSecret = newSecret()
    const operatorKey = `demo-${randomBytes(12).toString('hex')}`
    const crm = await startFakeCrm(callbackSecret)
    closers.push(() => crm.close())

    const configured = loadConfig({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      WEBHOOK_SECRETS: webhookSecret,
      OPERATOR_API_KEY: operatorKey,
      CRM_CALLBACK_URL: crm.url,
      CRM_CALLBACK_SECRET: callbackSecret,
      // Short delays so an outage and its recovery fit in seconds, not the production half-minute.
      SYNC_RETRY_BASE_MS: '200',
      SYNC_BACKOFF_BASE_MS: '1000',
      SYNC_BACKOFF_MAX_MS: '2000',
      // The story polls sync-status a few times a second; the default 10 per minute is for people.
      OPERATOR_RATE_LIMIT: '10000',
      LOG_LEVEL: 'silent'
    })
    const wiring = await maybeStartSandbox(configured, silentLogger)
    closers.push(() => wiring.close())
    if (!wiring.sandbox) throw new Error('the built-in sandbox did not start')
    const { config } = wiring

    const database = await openDatabase({ dataDir })
    let appOwnsDatabase = false
    closers.push(async () => {
      if (!appOwnsDatabase) await database.close()
    })
    await database.migrate()
    // The app owns the database from here: app.close() stops the worker, then closes it.
    const app = await buildApp({ config, database })
    appOwnsDatabase = true
    closers.push(() => app.close())
    await app.listen({ host: config.HOST, port: config.PORT })
    const address = app.server.address()
    if (typeof address !== 'object' || !address) throw new Error('the service is not listening')

    return {
      serviceUrl: `http://127.0.0.1:${address.port}`,
      sandbox: wiring.sandbox,
      crm,
      webhookSecret,
      operatorKey,
      dataDir,
      app,
      stop
    }
  } catch (error) {
    await stop()
    throw error
  }
}
