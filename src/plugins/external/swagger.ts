import { readFileSync } from 'node:fs'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Type } from '@sinclair/typebox'
import type { FastifySchema } from 'fastify'
import fp from 'fastify-plugin'
import { HttpError } from '../../schemas/webhook-responses.js'

export const DOCS_PREFIX = '/docs'

// src/plugins/external and dist/plugins/external are both three levels below package.json.
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

/** Routes in the document are grouped by the part of the interface they belong to (docs/interface.md). */
function tagFor(url: string): string {
  if (url.startsWith('/webhooks/')) return 'Webhooks'
  if (url.startsWith('/api/')) return 'Operator API'
  return 'Operations'
}

const operatorErrors = {
  401: Type.Object(HttpError.properties, { description: 'Missing or invalid operator key' }),
  429: Type.Object(HttpError.properties, {
    description: 'OPERATOR_RATE_LIMIT per minute used up for this key; see retry-after'
  })
}

/**
 * The operator auth hook and rate limit answer for every operator route, so their 401 and 429 are
 * added here rather than repeated in each route's schema. Document only: the routes are unchanged.
 */
function documented(schema: FastifySchema | undefined, url: string): FastifySchema {
  const base = schema ?? {}
  const operator = base.security?.some((requirement) => 'operatorKey' in requirement) ?? false
  const response = operator ? { ...operatorErrors, ...(base.response as object | undefined) } : base.response
  return { ...base, tags: base.tags ?? [tagFor(url)], ...(response ? { response } : {}) }
}

/**
 * OpenAPI 3 document built from the routes' TypeBox schemas (docs/interface.md): UI at `/docs`, document
 * at `/docs/json`. Registered before the routes: @fastify/swagger collects them as they are added.
 */
export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'pipedrive-sync',
          description:
            'Turns signed CRM webhooks into Pipedrive organizations, persons and activities — durably, ' +
            'once, within rate limits.',
          version
        },
        tags: [
          { name: 'Webhooks', description: 'Signed events from the CRM (Standard Webhooks 1.0)' },
          { name: 'Operator API', description: 'Sync state and repair; Bearer OPERATOR_API_KEY' },
          { name: 'Operations', description: 'Health and metrics, for the platform and monitoring' }
        ],
        components: {
          securitySchemes: {
            operatorKey: {
              type: 'http',
              scheme: 'bearer',
              description: 'Authorization: Bearer <OPERATOR_API_KEY>'
            }
          }
        }
      },
      transform: ({ schema, url }) => ({ schema: documented(schema, url), url })
    })
    await app.register(swaggerUi, { routePrefix: DOCS_PREFIX })
  },
  { name: 'swagger' }
)
