import { type Static, Type } from '@sinclair/typebox'

const Target = {
  /** Only requests with this method and/or path (exact, without query) are affected. */
  method: Type.Optional(Type.String()),
  path: Type.Optional(Type.String())
}

export const FaultsSchema = Type.Object({
  /** Added before every answer. */
  latencyMs: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Every Pipedrive request gets a 503 from "the gateway" (not counted against the budget). */
  down: Type.Optional(Type.Boolean()),
  /** The next `count` matching requests are answered `status` (JSON envelope, or HTML). */
  failNext: Type.Optional(
    Type.Object({
      count: Type.Integer({ minimum: 1 }),
      status: Type.Integer({ minimum: 400, maximum: 599 }),
      message: Type.Optional(Type.String()),
      html: Type.Optional(Type.Boolean()),
      retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
      ...Target
    })
  ),
  /**
   * Matching requests are processed at once and their answer is held back `ms`: a client that
   * gives up or dies meanwhile made the record without learning it (a create in flight at a crash).
   */
  delayAnswer: Type.Optional(
    Type.Object({
      ms: Type.Integer({ minimum: 0 }),
      ...Target
    })
  ),
  /**
   * The next `count` matching requests lose their connection: `before` processing (nothing
   * happened) or `after` (the record was made but the answer is lost — an ambiguous create).
   */
  dropNext: Type.Optional(
    Type.Object({
      count: Type.Integer({ minimum: 1 }),
      when: Type.Optional(Type.Union([Type.Literal('before'), Type.Literal('after')])),
      ...Target
    })
  )
})
export type Faults = Static<typeof FaultsSchema>

export function matches(
  target: { method?: string | undefined; path?: string | undefined },
  method: string,
  path: string
) {
  return (!target.method || target.method.toUpperCase() === method) && (!target.path || target.path === path)
}
