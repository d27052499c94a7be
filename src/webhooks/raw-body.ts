import type { IncomingMessage } from 'node:http'
import { errorCodes } from 'fastify'

/**
 * Past this, an oversize body is no longer read to the end: the connection is simply closed. Up to
 * it, the rest of an oversize body is read and dropped first, so the sender gets its 413 instead of
 * a connection reset in the middle of writing.
 */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024

/** Reads the raw body (the signature is checked on these bytes), refusing more than `limitBytes`. */
export function readRawBody(
  payload: IncomingMessage,
  limitBytes: number,
  done: (error: Error | null, body?: Buffer) => void
): void {
  const chunks: Buffer[] = []
  let received = 0
  const finish = (error: Error | null, body?: Buffer) => {
    payload.removeListener('data', onData)
    payload.removeListener('end', onEnd)
    payload.removeListener('error', onError)
    done(error, body)
  }
  const onData = (chunk: Buffer) => {
    received += chunk.length
    if (received <= limitBytes) chunks.push(chunk)
    else chunks.length = 0
    if (received > DRAIN_LIMIT_BYTES) finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
  }
  const onEnd = () =>
    received > limitBytes
      ? finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE())
      : finish(null, Buffer.concat(chunks, received))
  const onError = (error: Error) => finish(error)
  payload.on('data', onData)
  payload.on('end', onEnd)
  payload.on('error', onError)
}
