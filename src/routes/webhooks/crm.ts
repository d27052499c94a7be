import type { FastifyPluginAsync } from 'fastify'
import { recordActivityCreated, recordContactUpdated } from '../../intake/record-event.js'
import { HttpError, WebhookAccepted } from '../../schemas/webhook-responses.js'
import { parseEvent } from '../../webhooks/parse-event.js'
import { verifyWebhook } from '../../webhooks/verify.js'

export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024

/**
 * `POST /webhooks/crm` (CONTRACT §1). The raw-body parser is registered inside this plugin only:
 * the signature is checked on the bytes as received, before anything is parsed.
 */
const crmWebhookRoutes: FastifyPluginAsync = async (app) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT_BYTES },
    (_request, body, done) => done(null, body)
  )

  app.post(
    '/webhooks/crm',
    {
      bodyLimit: WEBHOOK_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Receive a signed CRM event (Standard Webhooks)',
        response: { 200: WebhookAccepted, 202: WebhookAccepted, '4xx': HttpError }
      }
    },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const { id } = verifyWebhook({
        headers: request.headers,
        body,
        keys: app.config.webhookKeys,
        nowSeconds: Math.floor(app.now() / 1000)
      })
      const parsed = parseEvent(body)
      if (parsed.kind === 'ignored') {
        request.log.info({ webhookId: id, type: parsed.type }, 'ignored event of unknown type')
        return reply.code(202).send({ accepted: true, ignored: true, id })
      }
      const input = { webhookId: id, rawBody: body.toString('utf8') }
      const outcome =
        parsed.kind === 'contact.updated'
          ? await recordContactUpdated(app.db, { ...input, event: parsed.event })
          : await recordActivityCreated(app.db, { ...input, event: parsed.event })
      if (outcome === 'duplicate') return reply.code(200).send({ accepted: true, duplicate: true, id })
      if (outcome === 'queued') app.jobs.notify()
      request.log.debug({ webhookId: id, type: parsed.kind, outcome }, 'event recorded')
      return reply.code(202).send({ accepted: true, id })
    }
  )
}

export default crmWebhookRoutes
