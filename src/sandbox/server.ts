import Fastify from 'fastify'
import type { CompanyOptions, SandboxUser } from './company.js'
import { CONTROL_PREFIX, controlRoutes, type ResetSchema } from './control-routes.js'
import { FaultState } from './fault-state.js'
import type { Faults } from './faults.js'
import { envelopeError, SandboxHttpError } from './http-error.js'
import { pipedriveHooks, userOf } from './pipedrive-hooks.js'
import { DEFAULT_SANDBOX_RATE_LIMIT, RateWindows, type SandboxRateLimit } from './rate-windows.js'
import { type LoggedRequest, RequestLog } from './request-log.js'
import { activityRoutes } from './routes/activities.js'
import { activityWriteRoutes } from './routes/activity-writes.js'
import { fieldRoutes } from './routes/fields.js'
import { organizationWriteRoutes } from './routes/organization-writes.js'
import { organizationRoutes } from './routes/organizations.js'
import { personWriteRoutes } from './routes/person-writes.js'
import { personRoutes } from './routes/persons.js'
import { userRoutes } from './routes/users.js'
import { SandboxStore } from './store.js'

/** Loopback only: the sandbox is a development and test tool, never reachable from outside. */
const HOST = '127.0.0.1'

export interface SandboxOptions {
  /** 0 (default): any free port. */
  port?: number
  company?: CompanyOptions
  rateLimit?: SandboxRateLimit
  faults?: Faults
  /** The caller's view of the environment; a production process can never start the sandbox. */
  production?: boolean
}

export interface Sandbox {
  /** Base URL to use as PIPEDRIVE_BASE_URL. */
  url: string
  /** The admin's token (owner@crm.example). */
  token: string
  /** Every user's token by email (the inactive user's token is refused with 401). */
  tokens: Record<string, string>
  store: SandboxStore
  faults: FaultState
  windows: RateWindows
  /** Pipedrive requests received, oldest first (control requests are not logged). */
  readonly requests: LoggedRequest[]
  clearRequests(): void
  /** Back to the start state (or the given variant): data, faults, rate windows and log cleared. */
  reset(options?: typeof ResetSchema.static): void
  close(): Promise<void>
}

export class SandboxInProductionError extends Error {
  constructor() {
    super('the Pipedrive sandbox cannot run in production (NODE_ENV=production)')
    this.name = 'SandboxInProductionError'
  }
}

/** Throws when the process runs in production, whatever the caller says. */
export function assertSandboxAllowed(production = false): void {
  if (production || process.env.NODE_ENV === 'production') throw new SandboxInProductionError()
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  assertSandboxAllowed(options.production)
  const store = new SandboxStore(options.company)
  const faults = new FaultState()
  if (options.faults) faults.set(options.faults)
  const initialLimits = options.rateLimit ?? DEFAULT_SANDBOX_RATE_LIMIT
  const windows = new RateWindows(initialLimits)
  const log = new RequestLog()
  const reset = (body: typeof ResetSchema.static = {}) => {
    store.reset(body.company ?? {})
    windows.reset(body.rateLimit ?? initialLimits)
    faults.set(body.faults ?? {})
    log.clear()
  }

  const app = Fastify({ logger: false, forceCloseConnections: true })
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof SandboxHttpError) return reply.code(error.status).send(envelopeError(error.message))
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500
    return reply.code(status).send(envelopeError(status === 500 ? 'Internal server error' : error.message))
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(envelopeError(`Unknown method ${request.method} ${request.url.split('?')[0]}`))
  )
  controlRoutes(app, { store, faults, windows, log, reset })
  await app.register(async (api) => {
    pipedriveHooks(api, { store, faults, windows, log })
    userRoutes(api, store, userOf(store))
    fieldRoutes(api, store)
    organizationRoutes(api, store)
    organizationWriteRoutes(api, store)
    personRoutes(api, store)
    personWriteRoutes(api, store)
    activityRoutes(api, store)
    activityWriteRoutes(api, store)
  })
  await app.listen({ host: HOST, port: options.port ?? 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const tokens = () => Object.fromEntries(store.users.map((user: SandboxUser) => [user.email, user.token]))

  return {
    url: `http://${HOST}:${port}`,
    get token() {
      return store.users.find((user) => user.is_admin)?.token ?? ''
    },
    get tokens() {
      return tokens()
    },
    store,
    faults,
    windows,
    get requests() {
      return log.entries
    },
    clearRequests: () => log.clear(),
    reset,
    close: () => app.close()
  }
}

export { CONTROL_PREFIX }
