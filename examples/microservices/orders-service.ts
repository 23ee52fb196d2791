import Fastify, { type FastifyInstance } from 'fastify'
import jwtAuth from 'fastify-jwt-session'
import { FEED_KEY_HEADER } from './user-service'

/**
 * A service that only verifies: it trusts the user service's JWKS, never sees a password,
 * cannot sign a token, and checks every request locally (the JWKS is fetched once, then
 * when a new key appears). It shares no store with the user service: it follows the user
 * service's revocation feed (`followRevocations`), so a logout there is refused here within
 * milliseconds, and every token answers 503 while the feed is not current (before its first
 * snapshot, or when nothing was heard from the user service for `maxStaleness`).
 */
export async function buildOrdersService (usersUrl: string, feedKey: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'info' } })
  await app.register(jwtAuth, {
    jwks: { url: `${usersUrl}/.well-known/jwks.json` },
    issuer: 'http://users.example',
    // The audience every token of the user service is for: tokens the issuer made for others are refused.
    audience: 'http://api.example',
    expiresIn: '15m',
    followRevocations: { url: `${usersUrl}/@revocations`, headers: { [FEED_KEY_HEADER]: feedKey }, maxStaleness: '5s' }
  })

  const orders = new Map<string, Array<{ id: number, item: string }>>()
  app.get('/orders', { onRequest: app.authenticate }, async (request) => ({ user: request.user.sub, orders: orders.get(request.user.sub) ?? [] }))
  app.post<{ Body: { item: string } }>('/orders', {
    onRequest: app.requireRoles('user', 'admin'),
    schema: { body: { type: 'object', properties: { item: { type: 'string', minLength: 1 } }, required: ['item'], additionalProperties: false } }
  }, async (request, reply) => {
    const mine = orders.get(request.user.sub) ?? []
    const order = { id: mine.length + 1, item: request.body.item }
    orders.set(request.user.sub, [...mine, order])
    return await reply.code(201).send(order)
  })
  return app
}
