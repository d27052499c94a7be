import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { CompanyOptionsSchema } from './company.js'
import type { FaultState } from './fault-state.js'
import { FaultsSchema } from './faults.js'
import type { RateWindows } from './rate-windows.js'
import { SandboxRateLimitSchema } from './rate-windows.js'
import type { RequestLog } from './request-log.js'
import type { SandboxStore } from './store.js'
import { validateBody } from './validate.js'

/** Reserved prefix: never a Pipedrive path, never counted, never logged, no token needed. */
export const CONTROL_PREFIX = '/__sandbox'

export const ResetSchema = Type.Object({
  company: Type.Optional(CompanyOptionsSchema),
  rateLimit: Type.Optional(SandboxRateLimitSchema),
  faults: Type.Optional(FaultsSchema)
})

export interface ControlParts {
  store: SandboxStore
  faults: FaultState
  windows: RateWindows
  log: RequestLog
  reset: (body: typeof ResetSchema.static) => void
}

export function controlRoutes(app: FastifyInstance, parts: ControlParts) {
  const { store, faults, windows, log } = parts
  app.get(`${CONTROL_PREFIX}/state`, async () => ({
    ...store.dump(),
    rateLimit: windows.limits,
    faults: faults.current
  }))
  app.post(`${CONTROL_PREFIX}/reset`, async (request) => {
    parts.reset(validateBody(ResetSchema, request.body ?? {}))
    return { ok: true }
  })
  app.get(`${CONTROL_PREFIX}/requests`, async () => ({ requests: log.entries }))
  app.delete(`${CONTROL_PREFIX}/requests`, async () => {
    log.clear()
    return { ok: true }
  })
  app.get(`${CONTROL_PREFIX}/faults`, async () => faults.current)
  app.put(`${CONTROL_PREFIX}/faults`, async (request) => {
    faults.set(validateBody(FaultsSchema, request.body ?? {}))
    return faults.current
  })
  app.delete(`${CONTROL_PREFIX}/faults`, async () => {
    faults.clear()
    return faults.current
  })
  app.put(`${CONTROL_PREFIX}/rate-limit`, async (request) => {
    windows.reset(validateBody(SandboxRateLimitSchema, request.body))
    return windows.limits
  })
}
