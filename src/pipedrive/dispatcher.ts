import { Pool } from 'undici'

/** Connect timeout: a healthy Pipedrive accepts a TLS connection well within this. */
export const CONNECT_TIMEOUT_MS = 5_000
/** Whole-request limit (also enforced per call by the client, queueing in the pool included). */
export const REQUEST_TIMEOUT_MS = 10_000
/** Idle keep-alive sockets are kept a little while: calls come in bursts (one sync = 3–6 calls). */
const KEEP_ALIVE_TIMEOUT_MS = 30_000
const CONNECTIONS = 16

/** The keep-alive pool for one Pipedrive origin; tests pass a MockAgent instead. */
export function createPipedrivePool(baseUrl: string): Pool {
  return new Pool(new URL(baseUrl).origin, {
    connections: CONNECTIONS,
    connect: { timeout: CONNECT_TIMEOUT_MS },
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS
  })
}
