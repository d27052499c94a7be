import type { FastifyInstance } from 'fastify'
import { COMPANY, type SandboxUser } from '../company.js'
import { SandboxHttpError } from '../http-error.js'
import type { SandboxStore } from '../store.js'
import { ok } from './page.js'

function view(user: SandboxUser) {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    active_flag: user.active_flag,
    is_admin: user.is_admin,
    is_deleted: false,
    role_id: 1,
    lang: 1,
    locale: 'en_US',
    timezone_name: 'Europe/Berlin'
  }
}

export function userRoutes(
  app: FastifyInstance,
  store: SandboxStore,
  userOf: (token?: string) => SandboxUser
) {
  app.get<{ Querystring: { term?: string; search_by_email?: string } }>(
    '/api/v1/users/find',
    async (request) => {
      const term = request.query.term?.trim().toLowerCase()
      if (!term) throw new SandboxHttpError(400, 'term is required')
      // Partial matching, inactive users included, as Pipedrive does ⚠️: the client filters.
      const byEmail = request.query.search_by_email === '1'
      const found = store.users.filter((user) =>
        (byEmail ? user.email : user.name).toLowerCase().includes(term)
      )
      return ok(found.length > 0 ? found.map(view) : null)
    }
  )

  app.get('/api/v1/users/me', async (request) => {
    const user = userOf(request.headers['x-api-token'] as string | undefined)
    return ok({
      ...view(user),
      company_id: COMPANY.id,
      company_name: COMPANY.name,
      company_domain: COMPANY.domain
    })
  })
}
