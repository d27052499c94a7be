import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SandboxUser } from './company.js'
import type { FaultState } from './fault-state.js'
import { matches } from './faults.js'
import { envelopeError } from './http-error.js'
import type { RateWindows } from './rate-windows.js'
import type { LoggedRequest, RequestLog } from './request-log.js'
import type { SandboxStore } from './store.js'

interface Parts {
  store: SandboxStore
  faults: FaultState
  windows: RateWindows
  log: RequestLog
}

const entries = new WeakMap<FastifyRequest, LoggedRequest>()
const arrivals = new WeakMap<FastifyRequest, number>()
const dropAfter = new WeakSet<FastifyRequest>()

const GATEWAY_PAGE =
  '<html><head><title>503 Service Unavailable</title></head><body>Service Unavailable</body></html>'
const CDN_403_PAGE = '<html><head><title>403 Forbidden</title></head><body>Access denied</body></html>'

/**
 * What stands in front of every Pipedrive route, in Pipedrive's order: the gateway (down mode,
 * latency), authentication, the rate limit (every authenticated request counts), then injected
 * failures and dropped connections.
 */
export function pipedriveHooks(app: FastifyInstance, parts: Parts) {
  const { store, faults, windows, log } = parts

  app.addHook('onRequest', async (request, reply) => {
    arrivals.set(request, performance.now())
    const url = new URL(request.url, 'http://sandbox')
    const user = store.userByToken(header(request, 'x-api-token'))
    const entry = log.add({
      method: request.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      userId: user?.id ?? null,
      body: null
    })
    entries.set(request, entry)
    if (faults.current.down) {
      entry.fault = 'down'
      return reply.code(503).type('text/html').send(GATEWAY_PAGE)
    }
    if (faults.current.latencyMs) await sleep(faults.current.latencyMs)
    if (!user) return reply.code(401).send(envelopeError('unauthorized access'))
    const verdict = windows.admit(user.token, url.pathname.endsWith('/search'))
    reply.headers(verdict.headers)
    if (verdict.retryAfter !== undefined) {
      entry.fault = 'rate-limited'
      return reply
        .code(429)
        .header('retry-after', String(verdict.retryAfter))
        .send(envelopeError('Request over limit'))
    }
    const decision = faults.take(request.method, url.pathname)
    if (decision.kind === 'fail') {
      entry.fault = 'failed'
      if (decision.retryAfterSeconds !== undefined)
        reply.header('retry-after', String(decision.retryAfterSeconds))
      if (decision.html) return reply.code(decision.status).type('text/html').send(htmlPage(decision.status))
      return reply.code(decision.status).send(envelopeError(decision.message))
    }
    if (decision.kind === 'drop' && decision.when === 'before') {
      entry.fault = 'dropped-before'
      return drop(request, reply)
    }
    if (decision.kind === 'drop') dropAfter.add(request)
  })

  app.addHook('preHandler', async (request) => {
    const entry = entries.get(request)
    if (entry) entry.body = request.body ?? null
  })

  // The record is made, then the answer is lost: the ambiguous create a client must survive.
  app.addHook('onSend', async (request, reply, payload) => {
    const delay = faults.current.delayAnswer
    if (delay && matches(delay, request.method, new URL(request.url, 'http://sandbox').pathname)) {
      await sleep(delay.ms)
    }
    if (!dropAfter.has(request)) return payload
    const entry = entries.get(request)
    if (entry) entry.fault = 'dropped-after'
    reply.raw.socket?.destroy()
    return payload
  })

  app.addHook('onResponse', async (request, reply) => {
    const entry = entries.get(request)
    if (entry && !entry.fault?.startsWith('dropped')) entry.status = reply.statusCode
    const arrived = arrivals.get(request)
    if (entry && arrived !== undefined) entry.durationMs = performance.now() - arrived
  })
}

export function userOf(store: SandboxStore) {
  return (token?: string): SandboxUser => {
    const user = store.userByToken(token)
    if (!user) throw new Error('unauthenticated request reached a route')
    return user
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function htmlPage(status: number): string {
  return status === 403 ? CDN_403_PAGE : `<html><body>${status}</body></html>`
}

function drop(request: FastifyRequest, reply: FastifyReply) {
  reply.hijack()
  request.raw.socket.destroy()
}
