import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { DOCS_PREFIX } from '../../src/plugins/external/swagger.js'
import { build, testDatabase } from '../helper.js'

interface Operation {
  summary?: string
  tags?: string[]
  security?: Record<string, string[]>[]
  parameters?: { in: string; name: string; required?: boolean }[]
  responses?: Record<string, unknown>
}
interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, Record<string, string>> }
}

/**
 * Every method and path the app serves. Fastify has no route list, but `printRoutes` draws the
 * router's tree: a node's depth is its indentation (4 columns a level), its full path the segments
 * of its ancestors joined, and its methods are in parentheses.
 */
function servedRoutes(app: FastifyInstance): { method: string; path: string }[] {
  const segments: string[] = []
  const served: { method: string; path: string }[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([\s│├└─]*)(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (!match?.[1] || !match[2]) continue
    const depth = match[1].length / 4 - 1
    segments.length = depth
    segments.push(match[2])
    const path = segments.join('')
    for (const method of match[3]?.split(', ') ?? []) served.push({ method, path })
  }
  return served
}

/** `/api/contacts/:id/sync-status` as OpenAPI writes it: `/api/contacts/{id}/sync-status`. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z_]\w*)/g, '{$1}')

const database = await testDatabase(t)
const app = await build(t, database, { startWorker: false })
const document = (await app.inject(`${DOCS_PREFIX}/json`)).json<OpenApiDocument>()
const served = servedRoutes(app)

t.test('the route list is read from the router, not from the document', async (t) => {
  // Guards the parser: an empty list would make the next test pass whatever the document says.
  for (const expected of ['GET /health', 'GET /health/ready', 'POST /webhooks/crm', 'GET /metrics']) {
    t.ok(
      served.some(({ method, path }) => `${method} ${path}` === expected),
      `${expected} found`
    )
  }
  t.ok(
    served.some(({ path }) => path === '/api/contacts/:id/sync-status'),
    'parametric paths are joined'
  )
})

t.test('every route except the docs themselves is documented, with a summary and responses', async (t) => {
  const routes = served.filter(
    ({ method, path }) =>
      !path.startsWith(DOCS_PREFIX) &&
      // HEAD routes are the ones Fastify adds for each GET; the document leaves them out.
      !(method === 'HEAD' && served.some((other) => other.method === 'GET' && other.path === path))
  )
  t.ok(routes.length >= 5, `${routes.length} routes to check`)
  for (const { method, path } of routes) {
    const operation = document.paths[openApiPath(path)]?.[method.toLowerCase()]
    t.ok(operation, `${method} ${path} is in /docs/json`)
    t.ok(operation?.summary, `${method} ${path} has a summary`)
    t.ok(Object.keys(operation?.responses ?? {}).length > 0, `${method} ${path} documents its answers`)
    if (path.startsWith('/api/')) {
      t.same(operation?.security, [{ operatorKey: [] }], `${method} ${path} needs the operator key`)
      t.ok(operation?.responses?.['401'], `${method} ${path} documents its 401`)
    }
  }
})

t.test('the operator key is a Bearer security scheme', async (t) => {
  t.match(document.openapi, /^3\./)
  t.match(document.components.securitySchemes.operatorKey, { type: 'http', scheme: 'bearer' })
})

t.test('the webhook documents its Standard Webhooks headers and event body', async (t) => {
  const operation = document.paths['/webhooks/crm']?.post
  const headers = (operation?.parameters ?? []).filter((parameter) => parameter.in === 'header')
  t.same(headers.map((header) => [header.name, header.required]).sort(), [
    ['webhook-id', true],
    ['webhook-signature', true],
    ['webhook-timestamp', true]
  ])
  t.match(operation, { requestBody: { content: { 'application/json': { schema: { anyOf: Array } } } } })
  t.ok(operation?.responses?.['202'] && operation.responses['401'] && operation.responses['415'])
  t.notOk(operation?.security, 'signed, not operator-authenticated')
})

t.test('documented headers are not validated: a request without them is still a 401', async (t) => {
  const response = await app.inject({
    method: 'POST',
    url: '/webhooks/crm',
    headers: { 'content-type': 'application/json' },
    payload: '{}'
  })
  t.equal(response.statusCode, 401)
})

t.test('the UI is served at /docs', async (t) => {
  const page = await app.inject({ url: DOCS_PREFIX })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  const yaml = await app.inject({ url: `${DOCS_PREFIX}/yaml` })
  t.equal(yaml.statusCode, 200)
})
