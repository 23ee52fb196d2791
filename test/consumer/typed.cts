// Strict TypeScript, CommonJS: type-checked against the installed tarball's own types, with
// TypeBox from the project's own import (its CommonJS types, this time).
import Fastify = require('fastify')
import typebox = require('@sinclair/typebox')
import jwtAuth = require('fastify-jwt-session')

async function main (): Promise<void> {
  const app = Fastify()
  await app.register(jwtAuth, { secret: 'a-consumer-secret-of-at-least-32-bytes', verifyCredentials: async () => null, revocationStore: jwtAuth.memoryStore() })
  await app.register(jwtAuth.default, { secret: 'a-consumer-secret-of-at-least-32-bytes', routes: false })
  await app.register(jwtAuth.jwtAuth, { secret: 'a-consumer-secret-of-at-least-32-bytes', routes: false })
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => {
    const sub: string = request.user.sub
    const roles: readonly string[] = request.user.roles
    return { sub, roles }
  })
  const { Type } = typebox
  await app.register(jwtAuth, {
    secret: 'a-consumer-secret-of-at-least-32-bytes',
    credentialsSchema: Type.Object({ email: Type.String(), pin: Type.Number() }),
    verifyCredentials: async (credentials) => {
      const pin: number = credentials.pin
      // @ts-expect-error the default login field is not in this schema
      void credentials.login
      return pin === 1234 ? { sub: credentials.email } : null
    }
  })
  // @ts-expect-error an unknown option is a type error
  await app.register(jwtAuth, { secret: 'x', expiresin: '1h' })
  const error: Error = new jwtAuth.InvalidTokenError()
  void error
}
void main()
