import { createHash, timingSafeEqual } from 'node:crypto'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { OperatorKeyError } from '../../http-errors.js'

const digest = (value: string) => createHash('sha256').update(value).digest()
const ONE_MINUTE_MS = 60_000

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  const match = typeof header === 'string' ? /^Bearer (.+)$/i.exec(header.trim()) : null
  return match?.[1]
}

/**
 * Operator routes of the scope this is called in: Bearer `OPERATOR_API_KEY` (compared in constant
 * time: equal-length digests), then `OPERATOR_RATE_LIMIT` per minute per key. Both run in
 * onRequest, authentication first (the limiter's hook is added per route, and route hooks run
 * after the scope's): a request without a valid key gets 401 and never uses up the key's budget,
 * and every request with one counts, before its body or parameters are validated — a 400 is not free.
 */
export async function operatorAuth(app: FastifyInstance): Promise<void> {
  const expected = digest(app.config.OPERATOR_API_KEY ?? '')
  app.addHook('onRequest', async (request) => {
    const given = bearer(request)
    if (!given || !timingSafeEqual(digest(given), expected)) throw new OperatorKeyError()
  })
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: app.config.OPERATOR_RATE_LIMIT,
    timeWindow: ONE_MINUTE_MS,
    // Keyed by the key's digest: the key itself is never kept as a map key in memory.
    keyGenerator: (request) =>
      `operator:${digest(bearer(request) ?? '')
        .toString('hex')
        .slice(0, 32)}`
  })
}
