import { Type, type TSchema } from '@sinclair/typebox'

/** Fastify's error body, as every failure of the plugin's routes is answered. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
  code: Type.Optional(Type.String({ description: 'A stable code, such as FST_JWT_SESSION_INVALID_TOKEN' })),
  error: Type.String(),
  message: Type.String()
}, { description: "An error, in Fastify's usual shape" })

/** A freshly signed token. */
export const TokenResponse = Type.Object({
  token: Type.String({ description: 'A signed JWT, to send as "Authorization: Bearer <token>"' })
})

/**
 * In cookie mode: a token for a client that sent an Authorization header, else (a browser)
 * the session's CSRF token, the token itself being in the HttpOnly cookie.
 */
export const SessionResponse = Type.Object({
  token: Type.Optional(Type.String({ description: 'A signed JWT, for a client that authenticated with an Authorization header' })),
  csrfToken: Type.Optional(Type.String({ description: 'Send it back in the CSRF header on state-changing requests authenticated by the cookie' }))
})

/** The Authorization header of the routes that need a token; optional, so its absence is a 401. */
export const BearerHeaders = Type.Object({
  authorization: Type.Optional(Type.String({ description: 'Bearer <token>' }))
})

/** A JWKS document of public signing keys (RFC 7517 §5), for OpenAPI. */
export const JwksResponse = Type.Object({
  keys: Type.Array(Type.Object({
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.Literal('sig')
  }, { additionalProperties: true, description: 'A public key; never any private part' }))
})

/** The optional logout body; `all` and `others` together are refused (400): they ask for two different things. */
export const LogoutBody = Type.Object({
  all: Type.Optional(Type.Boolean({ description: 'Revoke every token of this user issued until now' })),
  others: Type.Optional(Type.Boolean({ description: 'End every other session of this user; this one goes on' }))
}, {
  additionalProperties: false,
  not: { required: ['all', 'others'], properties: { all: { const: true }, others: { const: true } } }
})

/** The session ids the plugin issues: 128 random bits, base64url. */
export const SessionId = Type.String({ pattern: '^[A-Za-z0-9_-]{22}$', description: 'A session id, as GET /@sessions lists it' })

/** `DELETE /@sessions/:id`. */
export const SessionParams = Type.Object({ id: SessionId })

/** One of the caller's live sessions. */
const SessionItem = Type.Object({
  id: SessionId,
  current: Type.Boolean({ description: 'The session of the token that asks' }),
  createdAt: Type.String({ format: 'date-time', description: 'The login' }),
  lastSeenAt: Type.String({ format: 'date-time', description: 'The login or the last renewal' }),
  expiresAt: Type.String({ format: 'date-time', description: 'The last moment a token of it can be used or renewed' }),
  ip: Type.String({ description: 'request.ip at the login or the last renewal' }),
  userAgent: Type.String({ description: 'The user-agent header then (at most 512 characters), empty without one' })
})

/** `GET /@sessions`: the caller's live sessions, newest login first. */
export const SessionsResponse = Type.Object({ sessions: Type.Array(SessionItem) })

/**
 * The error responses of a route, for the statuses it can answer: each names its status, so
 * that documentation shows `401` under 401 rather than an example built from 400-599.
 */
export function errorResponses (...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, Type.Object({
    ...ErrorResponse.properties,
    statusCode: Type.Integer({ enum: [status] })
  }, { description: ErrorResponse.description })]))
}

/**
 * OpenAPI `security` of the routes a client calls without a token (login, JWKS): none, which
 * also overrides a document-wide bearer requirement, so Swagger UI shows no lock on them.
 */
export const NO_SECURITY: readonly [] = Object.freeze([]) as readonly []
