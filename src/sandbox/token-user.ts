import type { FastifyRequest } from 'fastify'
import type { SandboxStore } from './store.js'

/** Pipedrive makes the token's user the owner of what it creates when `owner_id` is left out. */
export function tokenUserId(store: SandboxStore, request: FastifyRequest): number | null {
  const token = request.headers['x-api-token']
  return store.userByToken(typeof token === 'string' ? token : undefined)?.id ?? null
}
