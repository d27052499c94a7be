import { Type } from '@sinclair/typebox'

export const WebhookAccepted = Type.Object({
  accepted: Type.Literal(true),
  id: Type.String(),
  duplicate: Type.Optional(Type.Literal(true)),
  ignored: Type.Optional(Type.Literal(true))
})

export const HttpError = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String()
})
