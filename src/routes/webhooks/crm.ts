import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import type { Config } from '../../config.js'
import type { Executor } from '../../db/database.js'
import { WebhookEvent, WebhookHeaders } from '../../schemas/webhook-request.js'
import { HttpError, WebhookAccepted } from '../../schemas/webhook-responses.js'
import {
  type RecordOutcome,
  recordActivityCreated,
  recordActivityDeleted,
  recordActivityUpdated,
  recordContactDeleted,
  recordContactUpdated
} from '../../store/intake.js'
import { type ParsedEvent, parseEvent } from '../../webhooks/parse-event.js'
import { readRawBody } from '../../webhooks/raw-body.js'
import { verifyWebhook } from '../../webhooks/verify.js'

export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024

const httpError = (description: string) => Type.Object(HttpError.properties, { description })

/**
 * `POST /webhooks/crm` (docs/interface.md). The raw-body parser is registered inside this plugin only:
 * the signature is checked on the bytes as received, before anything is parsed.
 */
const crmWebhookRoutes: FastifyPluginAsync = async (app) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', (_request, payload, done) =>
    readRawBody(payload, WEBHOOK_BODY_LIMIT_BYTES, done)
  )

  // Answers the handler did not give (signature, size, content type, schema): counted here, as the
  // handler never sees them. The type is unknown: the body was not (or could not be) read.
  app.addHook('onResponse', async (_request, reply) => {
    if (reply.statusCode >= 400) {
      app.metrics.webhook('unknown', reply.statusCode >= 500 ? 'failed' : 'rejected', reply.statusCode)
    }
  })

  app.post(
    '/webhooks/crm',
    {
      bodyLimit: WEBHOOK_BODY_LIMIT_BYTES,
      // Headers and body are described for the OpenAPI document only. docs/interface.md fixes the order
      // of checks (size and content type, then the signature, then JSON and schema) and answers a
      // bad header with 401, so Fastify must not validate them before the handler verifies.
      validatorCompiler: () => () => true,
      schema: {
        summary: 'Receive a signed CRM event (Standard Webhooks)',
        description:
          'Signed with Standard Webhooks 1.0. 202 once the event is stored and its work queued, before ' +
          'any Pipedrive call; 200 for a redelivered webhook-id; 202 `ignored` for an unknown type.',
        headers: WebhookHeaders,
        body: WebhookEvent,
        response: {
          200: WebhookAccepted,
          202: WebhookAccepted,
          400: httpError('Not JSON, or the event violates its schema (the message names the fields)'),
          401: httpError('Missing or invalid signature or headers, or a stale timestamp'),
          413: httpError('Body over 1 MiB'),
          415: httpError('Content type other than application/json')
        }
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
        // Not the type itself: the CRM may send any string, and a label must stay a bounded set.
        app.metrics.webhook('unknown', 'ignored', 202)
        return reply.code(202).send({ accepted: true, ignored: true, id })
      }
      const input = { webhookId: id, rawBody: body.toString('utf8') }
      const outcome = await record(app.db, input, parsed, app.config)
      if (outcome === 'duplicate') {
        app.metrics.webhook(parsed.kind, outcome, 200)
        return reply.code(200).send({ accepted: true, duplicate: true, id })
      }
      app.metrics.webhook(parsed.kind, outcome, 202)
      if (outcome === 'queued') app.jobs.notify()
      request.log.debug({ webhookId: id, type: parsed.kind, outcome }, 'event recorded')
      return reply.code(202).send({ accepted: true, id })
    }
  )
}

function record(
  db: Executor,
  input: { webhookId: string; rawBody: string },
  parsed: Exclude<ParsedEvent, { kind: 'ignored' }>,
  config: Pick<Config, 'PIPEDRIVE_DELETE_PERSONS'>
): Promise<RecordOutcome> {
  switch (parsed.kind) {
    case 'contact.updated':
      return recordContactUpdated(db, { ...input, event: parsed.event })
    case 'contact.deleted':
      return recordContactDeleted(db, {
        ...input,
        event: parsed.event,
        deletePerson: config.PIPEDRIVE_DELETE_PERSONS
      })
    case 'activity.created':
      return recordActivityCreated(db, { ...input, event: parsed.event })
    case 'activity.updated':
      return recordActivityUpdated(db, { ...input, event: parsed.event })
    case 'activity.deleted':
      return recordActivityDeleted(db, { ...input, event: parsed.event })
  }
}

export default crmWebhookRoutes
