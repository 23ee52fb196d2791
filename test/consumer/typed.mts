// Strict TypeScript, ESM: type-checked against the installed tarball's own types.
import Fastify from 'fastify'
import jwtAuth, { memoryStore, type SessionClaims } from 'fastify-jwt-session'

declare module 'fastify-jwt-session' {
  interface SessionExtraClaims {
    fullname: string
  }
}

const app = Fastify()
await app.register(jwtAuth, { secret: 'a-consumer-secret-of-at-least-32-bytes', verifyCredentials: async () => null, revocationStore: memoryStore() })
app.get('/me', { onRequest: [app.authenticate, app.requireRoles('admin')] }, async (request) => {
  const sub: string = request.user.sub
  const fullname: string = request.user.fullname
  const claims: SessionClaims = await request.authenticate()
  return { sub, fullname, roles: claims.roles }
})
// @ts-expect-error an unknown option is a type error
await app.register(jwtAuth, { secret: 'x', expiresin: '1h' })
// @ts-expect-error roles are strings
app.requireRoles(42)
