import type { IncomingMessage } from 'node:http'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { readRawBody } from '../../src/webhooks/raw-body.js'

function read(chunks: Buffer[], limit: number, endStream = true) {
  const stream = new PassThrough()
  const result = new Promise<{ error: Error | null; body?: Buffer; drained: boolean }>((resolve) =>
    readRawBody(stream as unknown as IncomingMessage, limit, (error, body) =>
      resolve({ error, ...(body ? { body } : {}), drained: stream.readableEnded })
    )
  )
  for (const chunk of chunks) stream.write(chunk)
  if (endStream) stream.end()
  return result
}

t.test('a body within the limit is returned byte for byte', async (t) => {
  const { error, body } = await read([Buffer.from('{"a":'), Buffer.from('1}')], 10)
  t.equal(error, null)
  t.equal(body?.toString(), '{"a":1}')
})

t.test('an oversize body is read to its end first, then refused with 413', async (t) => {
  const { error, drained } = await read([Buffer.alloc(8), Buffer.alloc(8)], 10)
  t.match(error, { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' })
  t.ok(drained, 'the sender could finish writing (it gets the 413, not a reset)')
})

t.test('a huge body is refused without waiting for its end', async (t) => {
  const { error, drained } = await read([Buffer.alloc(17 * 1024 * 1024)], 10, false)
  t.match(error, { statusCode: 413 })
  t.notOk(drained)
})
