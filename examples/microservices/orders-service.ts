import Fastify, { type FastifyInstance } from 'fastify'
import jwtAuth, { type RevocationStore } from 'fastify-jwt-session'

/**
 * A service that only verifies: it trusts the user service's JWKS, never sees a password,
 * cannot sign a token, and checks every request locally (the JWKS is fetched once, then
 * when a new key appears). Given the user service's revocation store, it refuses logged-out
 * tokens too.
 */
export async function buildOrdersService (jwksUrl: string, revocationStore: RevocationStore): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'info' } })
  // The audience every token of the user service is for: tokens the issuer made for others are refused.
  await app.register(jwtAuth, { jwks: { url: jwksUrl }, issuer: 'http://users.example', audience: 'http://api.example', expiresIn: '15m', revocationStore })

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
